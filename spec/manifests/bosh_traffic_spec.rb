# frozen_string_literal: true

require_relative '../support/manifest_combinations'
require_relative '../support/nft_plan'

# BOSH's own traffic (manifests/bosh-traffic.yml) against the ruleset pgguard-isolate plans on
# each VM from the isolation.conf the manifests render: every flow passes, the control plane
# reaches no other port, and another service instance reaches nothing.
RSpec.describe 'BOSH traffic under isolation (manifests/bosh-traffic.yml)' do
  flows = YAML.safe_load_file(File.join(RELEASE_DIR, 'manifests/bosh-traffic.yml')).fetch('flows')
  credhub = CredHubStandIn.new
  outside = '203.0.113.5' # TEST-NET-3: an NTP server or log drain outside both networks

  it 'lists each flow with a known direction, peer, protocol and port' do
    flows.each do |flow|
      expect(%w[inbound outbound local]).to include(flow['direction'])
      expect(%w[control outside local]).to include(flow['peer'])
      expect(%w[tcp udp]).to include(flow['protocol'])
      expect(flow['port']).to be_between(1, 65_535)
    end
  end

  [[], %w[multi-az], %w[bosh-lite]].each do |ops_files|
    describe ManifestCombinations.label(ops_files) do
      let(:deployment) { ManifestCombinations.deployment(ops_files) }
      let(:rendered) { deployment.render_all(release, credhub.generate(deployment.manifest['variables'])) }
      let(:isolation) { deployment.groups.first['jobs'].find { |job| job['name'] == 'isolation' }['properties']['isolation'] }
      # The director, or the first host of the first control network.
      let(:control_peer) do
        range = IPAddr.new(isolation['control']['cidrs'].first).to_range
        (range.first(2)[1] || range.first).to_s
      end
      # Another instance's VM: an address in the service network that is no member of this one.
      let(:stranger) do
        members = deployment.groups.flat_map { |group| group['networks'].first['static_ips'] }
        IPAddr.new(isolation['service_network']['cidrs'].first).to_range.lazy.map(&:to_s)
              .find { |ip| !members.include?(ip) && ip !~ /\.[01]\z/ && !isolation['control']['cidrs'].any? { |c| IPAddr.new(c).include?(ip) } }
      end

      it "allows exactly the inbound ports of the list to the control plane (isolation.control)" do
        inbound = flows.select { |flow| flow['direction'] == 'inbound' }
        expect(isolation['control']['tcp_ports']).to match_array(inbound.select { |f| f['protocol'] == 'tcp' }.map { |f| f['port'] })
        expect(isolation['control']['udp_ports']).to match_array(inbound.select { |f| f['protocol'] == 'udp' }.map { |f| f['port'] })
      end

      it 'lets every flow through on every VM, in both directions' do
        rendered.each do |vm, jobs|
          config = jobs.fetch('isolation').fetch('config/isolation.conf')
          output, error, status = run_helper_on('pgguard-isolate', config, 'isolation.conf', 'show', '--config', :file)
          expect(status.success?).to be(true), "#{vm}: pgguard-isolate show: #{error}"
          plan = NftPlan.new(output)
          self_ip = config[/^self = (\S+)$/, 1]
          flows.each do |flow|
            peer = { 'control' => control_peer, 'outside' => outside, 'local' => self_ip }.fetch(flow['peer'])
            protocol = flow['protocol']
            case flow['direction']
            when 'inbound'
              opening = NftPlan::Packet.new(iif: 'eth0', saddr: peer, daddr: self_ip, protocol: protocol, dport: flow['port'], ct_state: 'new')
              expect(plan.inbound(opening)).to eq(:accept), "#{vm}: #{flow['name']}: the peer's first packet"
              expect(plan.outbound(opening.to_h.merge(saddr: self_ip, daddr: peer, iif: nil, oif: 'eth0', dport: 40_000, ct_state: 'established')
                                          .then { |h| NftPlan::Packet.new(**h) })).to eq(:accept), "#{vm}: #{flow['name']}: the reply"
            when 'outbound'
              opening = NftPlan::Packet.new(oif: 'eth0', saddr: self_ip, daddr: peer, protocol: protocol, dport: flow['port'], ct_state: 'new')
              expect(plan.outbound(opening)).to eq(:accept), "#{vm}: #{flow['name']}: this VM's first packet"
              reply = NftPlan::Packet.new(iif: 'eth0', saddr: peer, daddr: self_ip, protocol: protocol, dport: 40_000, ct_state: 'established')
              expect(plan.inbound(reply)).to eq(:accept), "#{vm}: #{flow['name']}: the reply"
            when 'local'
              packet = NftPlan::Packet.new(iif: 'lo', oif: 'lo', saddr: self_ip, daddr: self_ip, protocol: protocol, dport: flow['port'], ct_state: 'new')
              expect(plan.outbound(packet)).to eq(:accept), "#{vm}: #{flow['name']} (output)"
              expect(plan.inbound(packet)).to eq(:accept), "#{vm}: #{flow['name']} (input)"
            end
          end
        end
      end

      it 'lets the control plane reach no other port, and another instance reach nothing of BOSH' do
        open_to_control = flows.select { |f| f['direction'] == 'inbound' }.map { |f| [f['protocol'], f['port']] }
        rendered.each do |vm, jobs|
          config = jobs.fetch('isolation').fetch('config/isolation.conf')
          output, = run_helper_on('pgguard-isolate', config, 'isolation.conf', 'show', '--config', :file)
          plan = NftPlan.new(output)
          self_ip = config[/^self = (\S+)$/, 1]
          # pgpool VMs: PCP is open to the control plane (docs/isolation.md), and the client port
          # where the control network lies in an application network (bosh-lite's workstation)
          service = vm.start_with?('pgpool') ? [['tcp', 9898], ['tcp', 9999]] : []
          [['tcp', 2822], ['tcp', 6868], ['tcp', 53080], ['tcp', 9100], ['udp', 53], ['udp', 123], ['tcp', 5432], ['tcp', 9999]].each do |protocol, port|
            next if open_to_control.include?([protocol, port]) || service.include?([protocol, port])

            packet = NftPlan::Packet.new(iif: 'eth0', saddr: control_peer, daddr: self_ip, protocol: protocol, dport: port, ct_state: 'new')
            expect(plan.inbound(packet)).to eq(:drop), "#{vm}: #{protocol} #{port} from the control plane"
          end
          flows.select { |f| f['direction'] == 'inbound' }.each do |flow|
            packet = NftPlan::Packet.new(iif: 'eth0', saddr: stranger, daddr: self_ip, protocol: flow['protocol'], dport: flow['port'], ct_state: 'new')
            expect(plan.inbound(packet)).to eq(:drop), "#{vm}: #{flow['name']} from another instance (#{stranger})"
          end
          out = NftPlan::Packet.new(oif: 'eth0', saddr: self_ip, daddr: stranger, protocol: 'tcp', dport: 8853, ct_state: 'new')
          expect(plan.outbound(out)).to eq(:drop), "#{vm}: to another instance's bosh-dns health port"
        end
      end
    end
  end
end
