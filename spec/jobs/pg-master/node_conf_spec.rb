# frozen_string_literal: true

# config/node.conf is the data pgguard-postgres runs the node from; the golden file is also the
# input of the C++ unit tests of postgresql.conf and pg_hba.conf (tests/unit/postgres), so the
# two sides cannot drift apart.
RSpec.describe 'pg-master job: config/node.conf' do
  include_context 'rendering a job template'

  let(:template) { release.job('pg-master').template('config/node.conf') }

  # A realistic service instance: one standby, three pgpool VMs and their VIP.
  let(:links) do
    [
      Bosh::Template::Test::Link.new(name: 'standby', instances: link_instances('198.18.1.12')),
      Bosh::Template::Test::Link.new(name: 'pgpool',
                                     instances: link_instances('198.18.1.13', '198.18.1.14', '198.18.1.15'),
                                     properties: { 'pgpool' => { 'vip' => '198.18.1.20' } })
    ]
  end

  let(:instance) do
    Bosh::Template::Test::InstanceSpec.new(name: 'pg-master', index: 0, ip: '198.18.1.11',
                                           deployment: 'service-fabrik-0021-6f1a')
  end

  let(:properties) do
    {
      'postgres' => {
        'replication' => { 'password' => 'replication secret' },
        'failover' => { 'password' => 'failover secret' },
        'roles' => [
          { 'name' => 'app', 'password' => 'app-secret%42' },
          { 'name' => 'admin', 'password' => 'admin-secret', 'permissions' => %w[createdb createrole] },
          { 'name' => 'pgpool_monitor', 'password' => 'monitor-secret', 'member_of' => ['pg_monitor'] }
        ],
        'databases' => [{ 'name' => 'appdb', 'owner' => 'app', 'extensions' => %w[pgcrypto citext] }]
      }
    }
  end

  def with_role(role)
    with('postgres.roles', properties['postgres']['roles'] + [role])
  end

  it_behaves_like 'a job with sandbox properties', 'pg-master'

  it 'renders the golden file' do
    expect(render).to eq(golden('pg-master/node.conf'))
  end

  it 'percent-encodes passwords so that spaces and % survive the line format' do
    expect(render).to include('role = replicator replication%20secret login replication')
    expect(render).to include('role = app app-secret%2542 login')
  end

  it 'makes the standby synchronous by default and not when synchronous_commit is false' do
    expect(render.lines.grep(/^synchronous_standby/)).to eq(["synchronous_standby = standby_0\n"])
    expect(render(with('postgres.synchronous_commit', false)).lines.grep(/^synchronous_standby/)).to eq([])
    expect(render(with('postgres.synchronous_commit', false))).to include("synchronous_commit = off\n")
  end

  it 'renders a lone master (no standby or pgpool link) with nobody allowed in over TCP' do
    output = render(consumes: [])
    expect(output.lines.grep(/^(replica|pgpool|vip|replication_slot) =/)).to eq([])
  end

  describe 'refuses at render time' do
    {
      'a missing replication password' => [->(s) { s.with('postgres.replication.password', nil) },
                                           'postgres.replication.password is missing or empty'],
      'a role name that is no identifier' => [->(s) { s.with_role('name' => 'App-1', 'password' => 'x') },
                                              "postgres.roles[3].name 'App-1' is not a lower-case identifier"],
      'a role named pg_*' => [->(s) { s.with_role('name' => 'pg_evil', 'password' => 'x') },
                              "postgres.roles[3].name 'pg_evil' starts with pg_"],
      'the superuser as a role' => [->(s) { s.with_role('name' => 'postgres', 'password' => 'x') },
                                    'postgres is the superuser'],
      'a role listed twice' => [->(s) { s.with_role('name' => 'app', 'password' => 'x') }, 'app is listed twice'],
      'a non-ASCII password' => [->(s) { s.with_role('name' => 'u', 'password' => "caf\u00e9") },
                                 'postgres.roles[3].password (u) must be printable ASCII'],
      'an unknown permission' => [->(s) { s.with_role('name' => 'u', 'password' => 'x', 'permissions' => ['superuser']) },
                                  'unknown permissions superuser'],
      'a member_of that is neither a role nor predefined' =>
        [->(s) { s.with_role('name' => 'u', 'password' => 'x', 'member_of' => ['pg_execute_server_program']) },
         "member_of 'pg_execute_server_program' is neither in postgres.roles"],
      'a database owner that is not a role' =>
        [->(s) { s.with('postgres.databases', [{ 'name' => 'd', 'owner' => 'nobody' }]) },
         'owner nobody is not in postgres.roles'],
      'a port out of range' => [->(s) { s.with('postgres.port', 70_000) }, "postgres.port '70000' is not a port"],
      'a malformed size' => [->(s) { s.with('postgres.shared_buffers', '1G') }, "postgres.shared_buffers '1G' is not a size"],
      'an unknown TLS version' => [->(s) { s.with('postgres.ssl_min_protocol_version', 'TLSv1.1') },
                                   'must be TLSv1.2 or TLSv1.3'],
      'a relative bin_dir' => [->(s) { s.with('postgres.bin_dir', 'bin') }, "postgres.bin_dir 'bin' is not an absolute path"],
      'too few connections' => [->(s) { s.with('postgres.max_connections', 5) }, 'must be 10-10000']
    }.each do |what, (change, message)|
      it "#{what}, naming the property" do
        expect { render(change.call(self)) }.to raise_error(/pg-master: .*#{Regexp.escape(message)}/)
      end
    end

    it 'a DNS name in a link, naming the link and ip_addresses: true' do
      dns = [Bosh::Template::Test::Link.new(name: 'standby',
                                            instances: link_instances('q-s0.pg-standby.default.d.bosh'))]
      expect { render(consumes: dns) }
        .to raise_error(/link 'standby' instance 0 'q-s0.pg-standby.default.d.bosh' is not an IP address \(consume the link with ip_addresses: true\)/)
    end

    it 'a DNS name as the VIP' do
      pgpool = [Bosh::Template::Test::Link.new(name: 'pgpool', instances: link_instances('198.18.1.13'),
                                               properties: { 'pgpool' => { 'vip' => 'vip.example' } })]
      expect { render(consumes: pgpool) }.to raise_error(/link 'pgpool' property pgpool.vip 'vip.example' is not an IP address/)
    end
  end

  it 'is accepted by the real pgguard-postgres parser (check)' do
    output, errors, status = run_helper_on('pgguard-postgres', render, 'node.conf', 'check', '--plan', :file)
    expect(errors).to eq('')
    expect(status.exitstatus).to eq(0)
    expect(output).to include('ok (pg-master, primary, 5 roles, 1 databases)')
  end
end
