# frozen_string_literal: true

require 'ipaddr'
require_relative '../support/manifest_combinations'

# manifests/cloud-config.yml and its IaaS ops-files (manifests/cloud-config/): control plane
# and data plane apart, and each IaaS's extension keeping anti-spoofing on.
RSpec.describe 'manifests/cloud-config.yml' do
  dir = File.join(RELEASE_DIR, 'manifests')
  let(:base) { ManifestOps.load_yaml(File.join(dir, 'cloud-config.yml')) }
  let(:network) { ->(config, name) { config['networks'].find { |n| n['name'] == name } } }

  it 'keeps the control network and the service subnets apart, one service subnet per AZ' do
    control = network.call(base, 'control')['subnets'].map { |s| IPAddr.new(s['range']) }
    service = network.call(base, 'service')['subnets']
    expect(service.map { |s| s['azs'] }).to eq([['z1'], ['z2'], ['z3']])
    service.each do |subnet|
      range = IPAddr.new(subnet['range'])
      control.each { |c| expect(c.include?(range.to_range.first) || range.include?(c.to_range.first)).to be(false) }
    end
    expect(base['compilation']['network']).to eq('control')
  end

  it "matches the manifest's isolation networks" do
    manifest = ManifestCombinations.manifest([])
    isolation = manifest['instance_groups'][0]['jobs'][0]['properties']['isolation']
    expect(isolation['control']['cidrs']).to eq(network.call(base, 'control')['subnets'].map { |s| s['range'] })
    service_cidrs = isolation['service_network']['cidrs'].map { |c| IPAddr.new(c) }
    network.call(base, 'service')['subnets'].each do |subnet|
      expect(service_cidrs.any? { |c| c.include?(IPAddr.new(subnet['range']).to_range.last) }).to be(true)
    end
    isolation['clients']['cidrs'].each do |cidr|
      all = base['networks'].flat_map { |n| n['subnets'].map { |s| IPAddr.new(s['range']) } }
      expect(all.none? { |range| range.include?(IPAddr.new(cidr).to_range.first) }).to be(true)
    end
  end

  {
    'aws' => { 'source_dest_check' => true },
    'azure' => { 'ip_forwarding' => false },
    'gcp' => { 'ip_forwarding' => false },
    'openstack' => {}
  }.each do |iaas, anti_spoofing|
    describe "cloud-config/#{iaas}.yml" do
      let(:config) { ManifestOps.apply(base, ManifestOps.load_yaml(File.join(dir, "cloud-config/#{iaas}.yml"))) }
      let(:extension) { config['vm_extensions'].find { |e| e['name'] == 'secure-postgres-service' }['cloud_properties'] }

      it 'applies cleanly and fills every AZ, VM type, disk type and subnet' do
        config['azs'].each { |az| expect(az['cloud_properties']).to be_a(Hash), az['name'] }
        config['vm_types'].each { |type| expect(type['cloud_properties']).to be_a(Hash), type['name'] }
        config['networks'].flat_map { |n| n['subnets'] }.each { |s| expect(s['cloud_properties']).not_to be_empty, s['range'] }
      end

      it 'puts the service VMs in their own security group and keeps anti-spoofing on' do
        expect(extension).to include(anti_spoofing)
        expect(extension.keys & %w[security_groups security_group tags]).not_to be_empty
        expect(extension).not_to include('allowed_address_pairs') # per instance only (openstack-instance-vip.yml)
      end
    end
  end

  it 'bosh-lite-static-ips.yml applies to bosh-deployment warden/cloud-config.yml' do
    config = ManifestCombinations.cloud_config(%w[bosh-lite])
    expect(network.call(config, 'default')['subnets'][0]['static']).to include('10.244.0.8-10.244.0.15')
  end
end
