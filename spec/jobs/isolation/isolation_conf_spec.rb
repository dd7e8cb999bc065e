# frozen_string_literal: true

RSpec.describe 'isolation job: config/isolation.conf' do
  include_context 'rendering a job template'

  let(:template) { release.job('isolation').template('config/isolation.conf') }

  let(:links) do
    [
      Bosh::Template::Test::Link.new(name: 'master', instances: link_instances('198.18.1.11')),
      Bosh::Template::Test::Link.new(name: 'standby', instances: link_instances('198.18.1.12')),
      Bosh::Template::Test::Link.new(name: 'pgpool',
                                     instances: link_instances('198.18.1.13', '198.18.1.14', '198.18.1.15'))
    ]
  end

  let(:instance) do
    Bosh::Template::Test::InstanceSpec.new(name: 'pgpool', index: 0, ip: '198.18.1.13',
                                           deployment: 'service-fabrik-0021-6f1a')
  end

  let(:properties) do
    {
      'isolation' => {
        'vip' => ['198.18.1.20'],
        'clients' => { 'cidrs' => ['198.18.64.0/24'] },
        'control' => { 'cidrs' => ['198.18.0.0/28'], 'tcp_ports' => [22, 6868] },
        'service_network' => { 'cidrs' => ['198.18.0.0/16'] }
      }
    }
  end

  it 'renders the golden file for a pgpool VM' do
    expect(render).to eq(golden('isolation/pgpool.conf'))
  end

  it 'lists every link instance as a member with its role' do
    members = render.lines.grep(/^member = /).map(&:chomp)
    expect(members).to eq(['member = master 198.18.1.11', 'member = standby 198.18.1.12',
                           'member = pgpool 198.18.1.13', 'member = pgpool 198.18.1.14',
                           'member = pgpool 198.18.1.15'])
  end

  it 'takes this VM address from spec.ip' do
    expect(render.lines.grep(/^self = /)).to eq(["self = 198.18.1.13\n"])
  end

  it 'enforces every hardening sysctl by default and honours an explicit false' do
    expect(render.lines.grep(/ = true$/).size).to eq(9)
    rendered = render(with('isolation.sysctl', { 'ignore_router_advertisements' => false }))
    expect(rendered).to include("ignore_router_advertisements = false\n")
  end

  describe 'render-time errors (a bad manifest fails bosh deploy before any VM changes)' do
    it 'refuses a link address that is a DNS name' do
      dns_links = links.dup
      dns_links[0] = Bosh::Template::Test::Link.new(name: 'master',
                                                    instances: link_instances('q-s0.pg-master.default.svc.bosh'))
      expect { render(consumes: dns_links) }
        .to raise_error(/link 'master' instance 0 'q-s0.pg-master.default.svc.bosh' is not an IP address .*ip_addresses: true/)
    end

    it 'refuses a VM that is not among the link instances' do
      stranger = Bosh::Template::Test::InstanceSpec.new(ip: '198.18.2.13')
      expect { render(spec: stranger) }.to raise_error(/this VM \(198.18.2.13\) is not among the instances/)
    end

    it 'refuses an empty control-plane list' do
      expect { render(with('isolation.control.cidrs', [])) }.to raise_error(/isolation.control.cidrs is empty/)
    end

    it 'refuses a missing control-plane list' do
      props = Marshal.load(Marshal.dump(properties))
      props['isolation']['control'].delete('cidrs')
      expect { render(props) }.to raise_error(/isolation.control.cidrs is empty/)
    end

    it 'refuses an empty service-network list' do
      expect { render(with('isolation.service_network.cidrs', [])) }
        .to raise_error(/isolation.service_network.cidrs is empty/)
    end

    it 'refuses a malformed CIDR' do
      expect { render(with('isolation.clients.cidrs', ['198.18.64.0/33'])) }
        .to raise_error(%r{isolation.clients.cidrs entry '198.18.64.0/33' is not a CIDR})
    end

    it 'refuses a CIDR with host bits set' do
      expect { render(with('isolation.control.cidrs', ['198.18.0.1/28'])) }
        .to raise_error(%r{'198.18.0.1/28' has host bits set \(network is 198.18.0.0/28\)})
    end

    it 'refuses a port out of range' do
      expect { render(with('isolation.ports.postgres', 70_000)) }
        .to raise_error(/isolation.ports.postgres '70000' is not a port/)
    end

    it 'refuses an empty control TCP port list' do
      expect { render(with('isolation.control.tcp_ports', [])) }
        .to raise_error(/isolation.control.tcp_ports is empty/)
    end

    it 'refuses an unknown sysctl key' do
      expect { render(with('isolation.sysctl', { 'rp_filter' => true })) }
        .to raise_error(/isolation.sysctl has unknown key\(s\): rp_filter/)
    end

    it 'refuses a non-boolean sysctl value' do
      expect { render(with('isolation.sysctl', { 'tcp_syncookies' => 'yes' })) }
        .to raise_error(/isolation.sysctl.tcp_syncookies must be true or false/)
    end

    it 'refuses a VIP that is not an address' do
      expect { render(with('isolation.vip', ['198.18.1.0/24'])) }
        .to raise_error(%r{isolation.vip entry '198.18.1.0/24' is not an IP address})
    end

    it 'refuses a VIP no VM can hold' do
      { '0.0.0.0' => 'the unspecified address', '255.255.255.255' => 'the broadcast address',
        '127.0.0.1' => 'a loopback address', '239.1.1.1' => 'a multicast address',
        '::1' => 'a loopback address', 'ff02::1' => 'a multicast address' }.each do |vip, what|
        expect { render(with('isolation.vip', [vip])) }
          .to raise_error(/isolation.vip entry '#{Regexp.escape(vip)}' is #{what}, which no VM holds/)
      end
    end

    it 'refuses a control plane or service network of every address' do
      expect { render(with('isolation.control.cidrs', ['0.0.0.0/0'])) }
        .to raise_error(%r{isolation.control.cidrs entry '0.0.0.0/0' is every address})
      expect { render(with('isolation.service_network.cidrs', ['198.18.0.0/16', '::/0'])) }
        .to raise_error(%r{isolation.service_network.cidrs entry '::/0' is every address})
    end

    it 'refuses a table name or log prefix that nft text cannot carry' do
      expect { render(with('isolation.table', 'secure-postgres')) }
        .to raise_error(/isolation.table 'secure-postgres' must be 1-64 characters/)
      expect { render(with('isolation.table', 'counter')) }
        .to raise_error(/isolation.table 'counter' .* with at least one '_' \(no nft keyword has one\)/)
      expect { render(with('isolation.log.drop_prefix', 'drop$x ')) }
        .to raise_error(/isolation.log.drop_prefix must be 1 to 120 printable ASCII characters/)
      expect { render(with('isolation.log.drop_prefix', 'say "hi"')) }
        .to raise_error(/isolation.log.drop_prefix must be/)
    end
  end

  it 'is turned into a ruleset by the real pgguard-isolate (show) without complaint' do
    output, errors, status = run_helper_on('pgguard-isolate', render, 'isolation.conf', 'show', '--config', :file)
    expect(errors).to eq('')
    expect(status.exitstatus).to eq(0)
    expect(output).to include('table inet secure_postgres')
  end
end
