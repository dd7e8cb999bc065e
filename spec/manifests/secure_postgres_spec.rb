# frozen_string_literal: true

require 'ipaddr'
require 'openssl'
require_relative '../support/manifest_combinations'

# manifests/secure-postgres.yml and every combination of its ops-files: deployable as the
# director checks it (local/lib/deployment.rb), and every template of every job renders on
# every VM from it.
RSpec.describe 'manifests/secure-postgres.yml' do
  credhub = CredHubStandIn.new

  ManifestCombinations.all.each do |ops_files|
    describe ManifestCombinations.label(ops_files) do
      let(:deployment) { ManifestCombinations.deployment(ops_files) }
      let(:variables) { credhub.generate(deployment.manifest['variables']) }
      let(:rendered) { deployment.render_all(release, variables) }

      it 'is deployable: jobs, properties, links, variables, update, static IPs and cloud config agree' do
        expect(deployment.problems).to eq([])
      end

      it 'renders every template of every job on all five VMs' do
        expect(rendered.keys).to contain_exactly('pg-master/0', 'pg-standby/0', 'pgpool/0', 'pgpool/1', 'pgpool/2')
        rendered.each do |vm, jobs|
          expect(jobs.keys).to include('isolation', 'security-smoke-tests'), vm
        end
      end

      it 'gives every VM an isolation config naming the five members and itself' do
        addresses = deployment.groups.flat_map { |group| group['networks'].first['static_ips'] }
        rendered.each do |vm, jobs|
          config = jobs.fetch('isolation').fetch('config/isolation.conf')
          expect(config.scan(/^member = \S+ (\S+)$/).flatten).to match_array(addresses), vm
        end
      end

      it 'issues server certificates whose alternative names cover the VMs (and the VIP where there is one)' do
        by_group = deployment.groups.to_h { |group| [group['name'], group['networks'].first['static_ips']] }
        vip = deployment.manifest.dig('instance_groups', 2, 'jobs', 1, 'properties', 'pgpool', 'vip')
        { 'pg_server_tls' => by_group['pg-master'] + by_group['pg-standby'],
          'pgpool_tls' => by_group['pgpool'] + [vip].compact }.each do |name, ips|
          certificate = OpenSSL::X509::Certificate.new(variables.fetch(name)['certificate'])
          san = certificate.extensions.find { |extension| extension.oid == 'subjectAltName' }.value
          ips.each { |ip| expect(san).to include("IP Address:#{ip}"), "#{name} lacks #{ip}: #{san}" }
          ca = OpenSSL::X509::Certificate.new(variables.fetch(name)['ca'])
          expect(certificate.verify(ca.public_key)).to be(true)
        end
      end
    end
  end

  describe 'what the base manifest promises' do
    let(:manifest) { ManifestCombinations.manifest([]) }

    it 'updates the master, then the standby, then pgpool, one VM at a time' do
      expect(manifest['instance_groups'].map { |group| group['name'] }).to eq(%w[pg-master pg-standby pgpool])
      expect(manifest['update']).to include('serial' => true, 'canaries' => 1, 'max_in_flight' => 1)
    end

    it 'colocates isolation and the smoke-test errand on every VM' do
      manifest['instance_groups'].each do |group|
        expect(group['jobs'].map { |job| job['name'] }).to include('isolation', 'security-smoke-tests')
      end
    end

    it 'keeps the VIP inside the instance block and out of every static IP' do
      vip = manifest['instance_groups'][2]['jobs'][1]['properties']['pgpool']['vip']
      statics = manifest['instance_groups'].flat_map { |group| group['networks'].first['static_ips'] }
      expect(statics).not_to include(vip)
      expect(IPAddr.new('10.11.0.8/29')).to include(IPAddr.new(vip))
      statics.each { |ip| expect(IPAddr.new('10.11.0.8/29')).to include(IPAddr.new(ip)) }
    end
  end

  describe 'the checks themselves (each mutation must be caught)' do
    def problems_after(&mutation)
      deployment = ManifestCombinations.deployment([])
      mutation.call(deployment.manifest)
      deployment.problems
    end

    def job(manifest, group, name)
      manifest['instance_groups'].find { |g| g['name'] == group }['jobs'].find { |j| j['name'] == name }
    end

    it 'finds a property the spec lacks' do
      problems = problems_after { |m| job(m, 'pgpool', 'pgpool')['properties']['pgpool']['vip_port'] = 1 }
      expect(problems).to include("pgpool/pgpool: property 'pgpool.vip_port' is not in the job spec")
    end

    it 'finds a link without ip_addresses' do
      problems = problems_after { |m| job(m, 'pg-standby', 'isolation')['consumes'] = { 'master' => { 'from' => 'master' } } }
      expect(problems).to include("pg-standby/isolation: link 'master' needs ip_addresses: true")
    end

    it 'finds a link provided twice' do
      problems = problems_after do |m|
        m['instance_groups'] << Marshal.load(Marshal.dump(m['instance_groups'][0])).merge('name' => 'pg-master-2')
      end
      expect(problems).to include(a_string_matching(/link 'master' .* has 2 providers/))
    end

    it 'finds an undeclared variable' do
      problems = problems_after { |m| job(m, 'pgpool', 'pgpool')['properties']['pgpool']['pcp']['password'] = '((pcp))' }
      expect(problems).to include('((pcp)) is used but not declared in variables')
    end

    it 'finds overlapping and out-of-subnet static IPs' do
      problems = problems_after do |m|
        m['instance_groups'][1]['networks'][0]['static_ips'] = ['10.11.0.8']
        m['instance_groups'][2]['networks'][0]['static_ips'][2] = '10.11.16.12'
      end
      expect(problems).to include('pg-standby: static IP 10.11.0.8 also used by pg-master',
                                  a_string_matching(/pgpool: static IP 10.11.16.12 is in subnet 10.11.16.0\/20 of azs \["z2"\]/))
    end

    it 'finds a group that would update in parallel with the next' do
      problems = problems_after { |m| m['instance_groups'][0]['update'] = { 'serial' => false } }
      expect(problems).to include('pg-master: update.serial false would update it together with the next group')
    end
  end
end
