# frozen_string_literal: true

RSpec.describe 'pgpool job: config/pool.conf' do
  include_context 'rendering a job template'

  let(:template) { release.job('pgpool').template('config/pool.conf') }

  # The master link carries pg-master's roles (its spec's provides properties): pool_passwd
  # needs every login role's password.
  let(:roles) do
    [{ 'name' => 'app', 'password' => 'app secret: 100%' },
     { 'name' => 'pgpool_monitor', 'password' => 'monitor secret', 'member_of' => ['pg_monitor'] },
     { 'name' => 'owner_only', 'password' => 'never used', 'permissions' => ['nologin'] }]
  end

  def pgpool_nodes(*addresses)
    addresses.each_with_index.map do |address, index|
      Bosh::Template::Test::LinkInstance.new(name: 'pgpool', id: "pgpool-#{index}", index: index, address: address)
    end
  end

  def master_link(instances: link_instances('198.18.1.11'), roles: self.roles)
    Bosh::Template::Test::Link.new(name: 'master', instances: instances,
                                   properties: { 'postgres' => { 'port' => 5432, 'roles' => roles,
                                                                 'failover' => { 'role' => 'failover',
                                                                                 'password' => 'failover: secret' } } })
  end

  let(:links) do
    [master_link,
     Bosh::Template::Test::Link.new(name: 'standby', instances: link_instances('198.18.1.12')),
     Bosh::Template::Test::Link.new(name: 'pgpool', instances: pgpool_nodes('198.18.1.13', '198.18.1.14', '198.18.1.15'))]
  end

  let(:instance) do
    # networks as the director renders a manual network (docs-bosh: the instance's network settings).
    Bosh::Template::Test::InstanceSpec.new(name: 'pgpool', id: 'pgpool-1', index: 1, ip: '198.18.1.14',
                                           deployment: 'service-fabrik-0021-6f1a',
                                           networks: { 'service' => { 'ip' => '198.18.1.14', 'netmask' => '255.255.255.0',
                                                                      'gateway' => '198.18.1.1', 'default' => %w[dns gateway] } })
  end

  let(:properties) do
    { 'pgpool' => { 'pcp' => { 'password' => 'pcp secret' },
                    'watchdog' => { 'authkey' => 'watchdog-key-0123456789' },
                    'clients' => { 'cidrs' => ['10.0.16.0/20'] } } }
  end

  it_behaves_like 'a job with sandbox properties', 'pgpool'

  it 'renders the golden file' do
    expect(render).to eq(golden('pgpool/pool.conf'))
  end

  it 'numbers the node by its place among the pgpool instances, the same on every node' do
    expect(render).to include("node_id = 1\nlisten_address = 198.18.1.14\n")
    expect(render).to include("node = 198.18.1.13\nnode = 198.18.1.14\nnode = 198.18.1.15\n")
  end

  it 'puts the master first and the standby second, each with the application_name it streams under' do
    expect(render).to include("backend = 198.18.1.11 5432 master_0\nbackend = 198.18.1.12 5432 standby_0\n")
  end

  it "takes every login role's password from the master link, percent-encoded, and leaves nologin roles out" do
    expect(render).to include("user = app app%20secret%3A%20100%25\n")
    expect(render).not_to include('owner_only')
  end

  it 'runs one node without the watchdog and needs no authkey then' do
    one = [master_link, Bosh::Template::Test::Link.new(name: 'pgpool', instances: pgpool_nodes('198.18.1.14'))]
    single = Bosh::Template::Test::InstanceSpec.new(name: 'pgpool', id: 'pgpool-0', index: 0, ip: '198.18.1.14')
    output = render(with('pgpool.watchdog', {}), consumes: one, spec: single)
    expect(output).to include("node_id = 0\n")
    expect(output).not_to include('[watchdog]')
    expect(output).not_to include('backend = 198.18.1.12')
  end

  it 'with a VIP, hands it to the broker of its own account' do
    output = render(with('pgpool.vip', '198.18.1.20'))
    expect(output).to include("[vip]\naddress = 198.18.1.20/32\ninterface = eth0\nbroker_user = pgpool-vip\n" \
                              "runtime = /var/vcap/sys/run/pgpool-vip\n")
    expect(render).not_to include('[vip]')
  end

  describe 'refuses at render time' do
    it 'a VIP outside the subnet of the pgpool VMs (ARP would announce it nowhere)' do
      expect { render(with('pgpool.vip', '198.18.2.20')) }
        .to raise_error(%r{pgpool.vip '198.18.2.20' is outside this VM's subnet 198.18.1.0/24})
    end

    it 'a VIP on a VM whose network has no netmask (no manual network)' do
      bare = Bosh::Template::Test::InstanceSpec.new(name: 'pgpool', id: 'pgpool-1', index: 1, ip: '198.18.1.14',
                                                    networks: { 'service' => { 'ip' => '198.18.1.14' } })
      expect { render(with('pgpool.vip', '198.18.1.20'), spec: bare) }
        .to raise_error(/pgpool.vip: the network of this VM's address 198.18.1.14 has no netmask/)
    end

    it 'a VIP with one pgpool node' do
      one = [master_link, Bosh::Template::Test::Link.new(name: 'pgpool', instances: pgpool_nodes('198.18.1.14'))]
      single = Bosh::Template::Test::InstanceSpec.new(name: 'pgpool', id: 'pgpool-0', index: 0, ip: '198.18.1.14')
      expect { render(with('pgpool.vip', '198.18.1.20'), consumes: one, spec: single) }
        .to raise_error(/pgpool.vip needs three pgpool nodes/)
    end

    it 'an IPv6 VIP, a VIP that is a node, a bad prefix or interface' do
      expect { render(with('pgpool.vip', '2001:db8::20')) }.to raise_error(/pgpool.vip '2001:db8::20' is not IPv4/)
      expect { render(with('pgpool.vip', '198.18.1.13')) }.to raise_error(/is the address of a pgpool VM/)
      expect { render(with('pgpool.vip', 'vip.example')) }.to raise_error(/pgpool.vip 'vip.example' is not an IP address/)
      with_vip = with('pgpool.vip', '198.18.1.20')
      with_vip['pgpool']['vip_prefix'] = 33
      expect { render(with_vip) }.to raise_error(/pgpool.vip_prefix '33' must be a whole number from 8 to 32/)
      with_vip['pgpool']['vip_prefix'] = 24
      with_vip['pgpool']['vip_interface'] = 'eth0; reboot'
      expect { render(with_vip) }.to raise_error(/pgpool.vip_interface 'eth0; reboot' is not a network interface name/)
    end

    it 'two pgpool instances' do
      two = [master_link, Bosh::Template::Test::Link.new(name: 'pgpool', instances: pgpool_nodes('198.18.1.13', '198.18.1.14'))]
      expect { render(consumes: two) }.to raise_error(/pgpool: link 'pgpool' has 2 instances: run 1 pgpool, or 3/)
    end

    it 'a missing PCP password' do
      expect { render(with('pgpool.pcp', {})) }.to raise_error(/pgpool: pgpool.pcp.password is missing or empty/)
    end

    it 'three nodes without a watchdog key' do
      expect { render(with('pgpool.watchdog', {})) }.to raise_error(/pgpool.watchdog.authkey is missing/)
    end

    it 'a watchdog key pgpool.conf cannot hold' do
      expect { render(with('pgpool.watchdog.authkey', "with a quote ' in it")) }
        .to raise_error(/pgpool.watchdog.authkey must be 16-128 printable characters/)
    end

    it 'a heartbeat deadtime shorter than two keepalives' do
      expect { render(with('pgpool.watchdog.heartbeat_deadtime', 1)) }
        .to raise_error(/pgpool.watchdog.heartbeat_deadtime 1 must be at least twice pgpool.watchdog.heartbeat_keepalive \(1\)/)
    end

    it 'a restart budget pgguard-failover would not take' do
      expect { render(with('pgpool.failover.restart_wait', 0)) }
        .to raise_error(/pgpool.failover.restart_wait '0' must be a whole number from 1 to 600/)
    end

    it 'a check role that is not a login role of the master link' do
      expect { render(with('pgpool.health_check.role', 'owner_only')) }
        .to raise_error(/pgpool.health_check.role 'owner_only' is not a login role of the master link's postgres.roles/)
    end

    it 'a client network that is no network address' do
      expect { render(with('pgpool.clients.cidrs', ['10.0.16.1/20'])) }
        .to raise_error(/pgpool.clients.cidrs entry '10.0.16.1\/20' is not a network address\/prefix/)
    end

    it 'a DNS name in a link, naming the link and ip_addresses: true' do
      dns = [master_link(instances: link_instances('q-s0.pg-master.d.bosh')), links[2]]
      expect { render(consumes: dns) }
        .to raise_error(/link 'master' instance 0 'q-s0.pg-master.d.bosh' is not an IP address \(consume the link with ip_addresses: true\)/)
    end

    it 'a VM that is not among its own link instances' do
      stranger = Bosh::Template::Test::InstanceSpec.new(name: 'pgpool', id: 'other', index: 0, ip: '198.18.1.13')
      expect { render(spec: stranger) }.to raise_error(/this VM \(other\) is not among link 'pgpool''s instances/)
    end

    it 'a non-ASCII role password' do
      bad = [master_link(roles: [{ 'name' => 'pgpool_monitor', 'password' => "caf\u00e9" }]), links[2]]
      expect { render(consumes: bad) }.to raise_error(/link 'master' postgres.roles\[0\].password must be printable ASCII/)
    end

    it "a master link without the failover role's password" do
      link = Bosh::Template::Test::Link.new(name: 'master', instances: link_instances('198.18.1.11'),
                                            properties: { 'postgres' => { 'port' => 5432, 'roles' => roles,
                                                                          'failover' => { 'role' => 'failover' } } })
      expect { render(consumes: [link, links[2]]) }
        .to raise_error(/link 'master' property postgres.failover.password is missing or empty/)
    end

    it 'no master link' do
      expect { render(consumes: [links[2]]) }.to raise_error(/master/)
    end
  end

  it 'is accepted by the real pgguard-pgpool parser (check)' do
    output, errors, status = run_helper_on('pgguard-pgpool', render, 'pool.conf', 'check', '--plan', :file)
    expect(errors).to eq('')
    expect(status.exitstatus).to eq(0)
    expect(output).to include('ok (pgpool, node 1 of 3, 2 backends, 2 users)')
    output, errors, status = run_helper_on('pgguard-pgpool', render(with('pgpool.vip', '198.18.1.20')), 'pool.conf',
                                           'check', '--plan', :file)
    expect([errors, status.exitstatus]).to eq(['', 0])
    expect(output).to include('ok (pgpool, node 1 of 3, 2 backends, 2 users, VIP 198.18.1.20)')
  end
end
