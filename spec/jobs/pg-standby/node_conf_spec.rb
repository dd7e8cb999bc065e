# frozen_string_literal: true

RSpec.describe 'pg-standby job: config/node.conf' do
  include_context 'rendering a job template'

  let(:template) { release.job('pg-standby').template('config/node.conf') }

  # The master link carries pg-master's server settings (its spec's provides properties).
  let(:master_properties) do
    { 'postgres' => { 'port' => 5432, 'max_connections' => 200, 'shared_buffers' => '256MB',
                      'work_mem' => '8MB', 'max_slot_wal_keep_size' => '2GB', 'wal_keep_size' => '512MB', 'synchronous_commit' => true,
                      'ssl_min_protocol_version' => 'TLSv1.3', 'replication' => { 'role' => 'replicator' },
                      'failover' => { 'role' => 'failover', 'password' => 'failover secret' } } }
  end

  let(:links) do
    [
      Bosh::Template::Test::Link.new(name: 'master', instances: link_instances('198.18.1.11'),
                                     properties: master_properties),
      Bosh::Template::Test::Link.new(name: 'pgpool',
                                     instances: link_instances('198.18.1.13', '198.18.1.14', '198.18.1.15'),
                                     properties: { 'pgpool' => { 'vip' => '198.18.1.20' } })
    ]
  end

  let(:instance) do
    Bosh::Template::Test::InstanceSpec.new(name: 'pg-standby', index: 0, ip: '198.18.1.12',
                                           deployment: 'service-fabrik-0021-6f1a')
  end

  let(:properties) { { 'postgres' => { 'replication' => { 'password' => 'replication secret' } } } }

  it_behaves_like 'a job with sandbox properties', 'pg-standby'

  it 'renders the golden file' do
    expect(render).to eq(golden('pg-standby/node.conf'))
  end

  it "takes the master's server settings, so a hot standby can serve its clients after a failover" do
    expect(render).to include("max_connections = 200\nshared_buffers = 256MB\nwork_mem = 8MB\n")
    expect(render).to include("ssl_min_protocol_version = TLSv1.3\n")
  end

  it 'streams from the master through the slot named after its index' do
    output = render(spec: Bosh::Template::Test::InstanceSpec.new(name: 'pg-standby', index: 1, ip: '198.18.1.16'))
    expect(output).to include("upstream = 198.18.1.11\n", "stream_slot = standby_1\n", "replica = 198.18.1.11\n")
  end

  it 'keeps a slot for the master and waits for it synchronously, for when a failover made it the primary' do
    expect(render).to include("replication_slot = master_0\nsynchronous_standby = master_0\n")
    async = master_properties.merge('postgres' => master_properties['postgres'].merge('synchronous_commit' => false))
    links = [Bosh::Template::Test::Link.new(name: 'master', instances: link_instances('198.18.1.11'), properties: async)]
    expect(render(consumes: links)).to include("replication_slot = master_0\n")
    expect(render(consumes: links)).not_to include('synchronous_standby')
  end

  it "refuses a master link without the failover role's password" do
    master_properties['postgres']['failover'].delete('password')
    expect { render }.to raise_error(/pg-standby: link 'master' property postgres.failover.password is missing or empty/)
  end

  describe 'refuses at render time' do
    it 'a missing replication password' do
      expect { render({}) }.to raise_error(/pg-standby: postgres.replication.password is missing or empty/)
    end

    it 'a non-ASCII replication password' do
      bad = { 'postgres' => { 'replication' => { 'password' => "caf\u00e9" } } }
      expect { render(bad) }.to raise_error(/pg-standby: postgres.replication.password must be printable ASCII/)
    end

    it 'a DNS name for the master, naming the link and ip_addresses: true' do
      dns = [Bosh::Template::Test::Link.new(name: 'master', instances: link_instances('q-s0.pg-master.d.bosh'),
                                            properties: master_properties)]
      expect { render(consumes: dns) }
        .to raise_error(/link 'master' instance 0 'q-s0.pg-master.d.bosh' is not an IP address \(consume the link with ip_addresses: true\)/)
    end

    it 'a master link with two instances' do
      two = [Bosh::Template::Test::Link.new(name: 'master', instances: link_instances('198.18.1.11', '198.18.1.21'),
                                            properties: master_properties)]
      expect { render(consumes: two) }.to raise_error(/link 'master' has 2 instances; a standby follows exactly one/)
    end

    it 'no master link at all' do
      expect { render(consumes: []) }.to raise_error(/master/)
    end
  end

  it 'is accepted by the real pgguard-postgres parser (check)' do
    output, errors, status = run_helper_on('pgguard-postgres', render, 'node.conf', 'check', '--plan', :file)
    expect(errors).to eq('')
    expect(status.exitstatus).to eq(0)
    expect(output).to include('ok (pg-standby, standby, 2 roles, 0 databases)')
  end
end
