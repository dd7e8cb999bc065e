# frozen_string_literal: true

require_relative '../../local/lib/manifest_ops'

RSpec.describe 'manifests/operations/colocate-isolation.yml' do
  let(:fixtures) { File.join(__dir__, '../fixtures/manifests') }
  let(:manifest) do
    base = YAML.load_file(File.join(fixtures, 'instance.yml'))
    operations = YAML.load_file(File.join(RELEASE_DIR, 'manifests/operations/colocate-isolation.yml'), aliases: true)
    variables = YAML.load_file(File.join(fixtures, 'instance-vars.yml'))
    ManifestOps.interpolate(ManifestOps.apply(base, operations), variables)
  end
  let(:template) { release.job('isolation').template('config/isolation.conf') }

  def links_of(job)
    job['consumes'].map do |name, link|
      instances = link['instances'].each_with_index.map do |instance, index|
        Bosh::Template::Test::LinkInstance.new(name: name, index: index, address: instance['address'])
      end
      Bosh::Template::Test::Link.new(name: name, instances: instances, properties: link['properties'])
    end
  end

  it 'adds the isolation job to all three instance groups and the release' do
    expect(manifest['releases'].map { |r| r['name'] }).to eq(['secure-postgres'])
    manifest['instance_groups'].each do |group|
      expect(group['jobs'].map { |job| job['name'] }).to eq(['isolation']), group['name']
    end
  end

  it 'renders a valid isolation config on each of the five VMs' do
    rendered = manifest['instance_groups'].flat_map do |group|
      job = group['jobs'].first
      group['networks'].first['static_ips'].each_with_index.map do |ip, index|
        spec = Bosh::Template::Test::InstanceSpec.new(name: group['name'], index: index, ip: ip)
        template.render(job['properties'], spec: spec, consumes: links_of(job))
      end
    end
    expect(rendered.size).to eq(5)
    rendered.each do |config|
      expect(config.lines.grep(/^member = /).size).to eq(5)
      expect(config).to include("vip = 198.18.1.20\n", "cidr = 198.18.64.0/24\n", "cidr = 198.18.0.0/16\n")
    end
  end

  it 'uses only properties the job spec declares' do
    declared = job_spec('isolation')['properties'].keys
    used = lambda do |hash, prefix = ''|
      hash.flat_map do |key, value|
        name = "#{prefix}#{key}"
        value.is_a?(Hash) && declared.none?(name) ? used.call(value, "#{name}.") : [name]
      end
    end
    manifest['instance_groups'].each do |group|
      expect(used.call(group['jobs'].first['properties']) - declared).to eq([])
    end
  end
end
