# frozen_string_literal: true

require 'ipaddr'
require_relative 'manifest_ops'
require_relative 'credhub_stand_in'

# A deployment manifest checked the way the director checks it before it changes a VM, for the
# parts this release depends on, and rendered the way the director renders it: links resolved
# from the job specs (explicit `from`, or implicitly by type), link properties from the
# provider's spec defaults and manifest properties, addresses as IPs only where the consumer
# says `ip_addresses: true` (a DNS name otherwise, as a director with
# `local_dns.use_dns_addresses` gives), every `((variable))` from the manifest's `variables:`.
# References: https://bosh.io/docs/manifest-v2/, https://bosh.io/docs/links/,
# https://bosh.io/docs/networks/ (static IPs), https://bosh.io/docs/cloud-config/.
class Deployment
  RELEASE = 'secure-postgres'

  attr_reader :manifest, :cloud_config

  def initialize(manifest, cloud_config, release_dir:)
    @manifest = manifest
    @cloud_config = cloud_config
    @release_dir = release_dir
  end

  def self.job_spec(release_dir, name)
    @job_specs ||= {}
    @job_specs[[release_dir, name]] ||= YAML.safe_load_file(File.join(release_dir, 'jobs', name, 'spec'), aliases: true)
  end

  def job_spec(name)
    self.class.job_spec(@release_dir, name)
  end

  def groups
    manifest.fetch('instance_groups')
  end

  # Every problem found, as readable strings; empty when the manifest is deployable.
  def problems
    [*structure_problems, *update_problems, *job_problems, *link_problems, *variable_problems,
     *network_problems, *cloud_config_problems].compact
  end

  # --- structure ----------------------------------------------------------------------------

  def structure_problems
    out = []
    %w[name releases stemcells update instance_groups].each do |key|
      out << "manifest: '#{key}' is missing" unless manifest.key?(key)
    end
    names = groups.map { |group| group['name'] }
    out << "instance group names repeat: #{names.tally.select { |_, n| n > 1 }.keys}" if names.uniq.size != names.size
    aliases = manifest.fetch('stemcells', []).map { |stemcell| stemcell['alias'] }
    groups.each do |group|
      %w[name instances azs jobs vm_type stemcell networks].each do |key|
        out << "#{group['name']}: '#{key}' is missing" unless group.key?(key)
      end
      out << "#{group['name']}: stemcell '#{group['stemcell']}' is not an alias of stemcells" unless aliases.include?(group['stemcell'])
    end
    out
  end

  # The master and the standby must never be updated at once: instance groups serial (the
  # global default is true, https://bosh.io/docs/manifest-v2/#update) and no group that
  # overrides it.
  def update_problems
    update = manifest.fetch('update', {})
    out = %w[canaries max_in_flight canary_watch_time update_watch_time].reject { |key| update.key?(key) }
                                                                        .map { |key| "update: '#{key}' is missing" }
    out << 'update: serial must be true (master and standby one after the other)' if update['serial'] == false
    groups.each do |group|
      out << "#{group['name']}: update.serial false would update it together with the next group" if group.dig('update', 'serial') == false
    end
    out
  end

  # --- jobs and properties ------------------------------------------------------------------

  def job_problems
    releases = manifest.fetch('releases', []).map { |release| release['name'] }
    groups.flat_map do |group|
      group['jobs'].flat_map do |job|
        where = "#{group['name']}/#{job['name']}"
        next ["#{where}: release '#{job['release']}' is not in releases"] unless releases.include?(job['release'])
        next ["#{where}: no such job in release #{RELEASE}"] unless File.exist?(File.join(@release_dir, 'jobs', job['name'], 'spec'))

        undeclared_properties(job).map { |name| "#{where}: property '#{name}' is not in the job spec" }
      end
    end
  end

  # Property paths of the manifest that the job spec does not declare (a declared property may
  # hold a hash; its inside is the property's value).
  def undeclared_properties(job)
    declared = job_spec(job['name']).fetch('properties', {}).keys
    walk = lambda do |hash, prefix|
      hash.flat_map do |key, value|
        name = "#{prefix}#{key}"
        next [] if declared.include?(name)
        next walk.call(value, "#{name}.") if value.is_a?(Hash) && declared.any? { |d| d.start_with?("#{name}.") }

        [name]
      end
    end
    walk.call(job['properties'] || {}, '')
  end

  # --- links --------------------------------------------------------------------------------

  Provider = Struct.new(:group, :job, :name, :type, :properties)

  def providers
    @providers ||= groups.flat_map do |group|
      group['jobs'].flat_map do |job|
        spec = job_spec(job['name'])
        spec.fetch('provides', []).filter_map do |provided|
          setting = (job['provides'] || {})[provided['name']]
          next if setting == 'nil' || (job['provides'] || {}).key?(provided['name']) && setting.nil?

          Provider.new(group, job, (setting.is_a?(Hash) && setting['as']) || provided['name'], provided['type'],
                       provided.fetch('properties', []))
        end
      end
    end
  end

  # The provider each consumed link of a job resolves to (nil: an optional link left
  # unresolved), or raises with the director's reason.
  def resolve(job, consumed)
    setting = (job['consumes'] || {})[consumed['name']]
    return nil if (job['consumes'] || {}).key?(consumed['name']) && (setting.nil? || setting == 'nil')

    candidates =
      if setting.is_a?(Hash) && setting['from']
        providers.select { |provider| provider.name == setting['from'] && provider.type == consumed['type'] }
      else
        providers.select { |provider| provider.type == consumed['type'] }
      end
    return candidates.first if candidates.size == 1
    return nil if candidates.empty? && consumed['optional']

    raise "link '#{consumed['name']}' (type #{consumed['type']}) has #{candidates.size} providers" \
          "#{setting.is_a?(Hash) && setting['from'] ? " named '#{setting['from']}'" : ''}"
  end

  # Every consumed link provided exactly once, wired explicitly (`from`), with IP addresses:
  # every consumer in this release builds firewall rules, pg_hba.conf or connection strings.
  def link_problems
    groups.flat_map do |group|
      group['jobs'].flat_map do |job|
        next [] unless File.exist?(File.join(@release_dir, 'jobs', job['name'], 'spec'))

        where = "#{group['name']}/#{job['name']}"
        spec = job_spec(job['name'])
        declared = spec.fetch('consumes', []).map { |consumed| consumed['name'] }
        out = ((job['consumes'] || {}).keys - declared).map { |name| "#{where}: consumes '#{name}', which the spec does not declare" }
        spec.fetch('consumes', []).each do |consumed|
          provider = resolve(job, consumed)
          setting = (job['consumes'] || {})[consumed['name']]
          next if provider.nil?

          out << "#{where}: link '#{consumed['name']}' is not wired explicitly (consumes: {#{consumed['name']}: {from: ...}})" unless setting.is_a?(Hash) && setting['from']
          out << "#{where}: link '#{consumed['name']}' needs ip_addresses: true" unless setting.is_a?(Hash) && setting['ip_addresses'] == true
        rescue RuntimeError => e
          out << "#{where}: #{e.message}"
        end
        out
      end
    end
  end

  # --- variables ----------------------------------------------------------------------------

  def variable_problems
    variables = manifest.fetch('variables', [])
    declared = variables.map { |variable| variable['name'] }
    used = ManifestOps.variable_names(manifest.reject { |key, _| key == 'variables' })
    signing = variables.filter_map { |variable| variable.dig('options', 'ca') }
    [*(used - declared).map { |name| "((#{name})) is used but not declared in variables" },
     *ManifestOps.variable_names(variables).map { |name| "variables: options must not use ((#{name}))" },
     *(declared - used - signing).map { |name| "variable '#{name}' is declared but never used" }]
  end

  # --- networks -----------------------------------------------------------------------------

  def self.expand(entry)
    first, last = entry.to_s.split('-', 2).map { |part| IPAddr.new(part.strip) }
    last ||= first
    (first.to_i..last.to_i).map { |number| IPAddr.new(number, Socket::AF_INET) }
  end

  def network_problems
    seen = {}
    groups.flat_map do |group|
      group['networks'].flat_map do |network|
        ips = network['static_ips'] || []
        out = []
        out << "#{group['name']}: #{ips.size} static IPs for #{group['instances']} instances" unless ips.size == group['instances']
        ips.each do |ip|
          out << "#{group['name']}: static IP #{ip} also used by #{seen[ip]}" if seen.key?(ip)
          seen[ip] = group['name']
        end
        out
      end
    end
  end

  def cloud_config_problems
    return ['no cloud config'] if cloud_config.nil?

    azs = cloud_config.fetch('azs', []).map { |az| az['name'] }
    names = ->(key) { cloud_config.fetch(key, []).map { |item| item['name'] } }
    out = []
    groups.each do |group|
      where = group['name']
      (group['azs'] - azs).each { |az| out << "#{where}: az #{az} is not in the cloud config" }
      out << "#{where}: vm_type #{group['vm_type']} is not in the cloud config" unless names.call('vm_types').include?(group['vm_type'])
      (group['vm_extensions'] || []).each do |extension|
        out << "#{where}: vm_extension #{extension} is not in the cloud config" unless names.call('vm_extensions').include?(extension)
      end
      if group['persistent_disk_type'] && !names.call('disk_types').include?(group['persistent_disk_type'])
        out << "#{where}: persistent_disk_type #{group['persistent_disk_type']} is not in the cloud config"
      end
      used_azs = []
      group['networks'].each do |network|
        definition = cloud_config.fetch('networks', []).find { |candidate| candidate['name'] == network['name'] }
        next out << "#{where}: network #{network['name']} is not in the cloud config" if definition.nil?

        (network['static_ips'] || []).each do |ip|
          subnet = definition['subnets'].find { |candidate| IPAddr.new(candidate['range']).include?(IPAddr.new(ip)) }
          next out << "#{where}: static IP #{ip} is in no subnet of network #{network['name']}" if subnet.nil?

          statics = (subnet['static'] || []).flat_map { |entry| Deployment.expand(entry) }
          reserved = (subnet['reserved'] || []).flat_map { |entry| Deployment.expand(entry) }
          address = IPAddr.new(ip)
          out << "#{where}: static IP #{ip} is not in the static range of subnet #{subnet['range']}" unless statics.include?(address)
          out << "#{where}: static IP #{ip} is reserved in subnet #{subnet['range']}" if reserved.include?(address)
          out << "#{where}: static IP #{ip} is the gateway" if subnet['gateway'] == ip
          subnet_azs = subnet['azs'] || [subnet['az']].compact
          common = subnet_azs & group['azs']
          out << "#{where}: static IP #{ip} is in subnet #{subnet['range']} of azs #{subnet_azs}, not in the group's #{group['azs']}" if common.empty?
          used_azs.concat(common)
        end
      end
      unused = group['azs'] - used_azs
      out << "#{where}: azs #{unused} get none of its static IPs" unless unused.empty?
    end
    out
  end

  # --- rendering ----------------------------------------------------------------------------

  Instance = Struct.new(:group, :index, :ip, :az, :id)

  def instances(group)
    network = group['networks'].first
    network['static_ips'].each_with_index.map do |ip, index|
      Instance.new(group, index, ip, az_of(group, network, ip), "#{group['name']}-#{index}")
    end
  end

  def az_of(group, network, ip)
    definition = cloud_config['networks'].find { |candidate| candidate['name'] == network['name'] }
    subnet = definition['subnets'].find { |candidate| IPAddr.new(candidate['range']).include?(IPAddr.new(ip)) }
    ((subnet['azs'] || [subnet['az']]) & group['azs']).first
  end

  # What the director renders for a manual network: the address, its subnet's netmask and
  # gateway.
  def network_settings(group, instance)
    network = group['networks'].first
    definition = cloud_config['networks'].find { |candidate| candidate['name'] == network['name'] }
    subnet = definition['subnets'].find { |candidate| IPAddr.new(candidate['range']).include?(IPAddr.new(instance.ip)) }
    { 'ip' => instance.ip, 'netmask' => IPAddr.new(subnet['range']).inspect[%r{/([\d.]+)>}, 1],
      'gateway' => subnet['gateway'], 'default' => %w[dns gateway] }
  end

  def dns_name(instance, network)
    "#{instance.id}.#{instance.group['name']}.#{network}.#{manifest['name']}.bosh"
  end

  def link_for(job, consumed, variables)
    provider = resolve(job, consumed)
    return nil if provider.nil?

    setting = job.dig('consumes', consumed['name']) || {}
    network = provider.group['networks'].first['name']
    link_instances = instances(provider.group).map do |instance|
      address = setting['ip_addresses'] ? instance.ip : dns_name(instance, network)
      Bosh::Template::Test::LinkInstance.new(name: provider.group['name'], id: instance.id, index: instance.index,
                                             az: instance.az, address: address, bootstrap: instance.index.zero?)
    end
    Bosh::Template::Test::Link.new(name: consumed['name'], instances: link_instances,
                                   properties: link_properties(provider, variables))
  end

  def link_properties(provider, variables)
    spec_properties = job_spec(provider.job['name']).fetch('properties', {})
    manifest_properties = ManifestOps.interpolate(provider.job['properties'] || {}, variables)
    provider.properties.each_with_object({}) do |name, result|
      value = name.split('.').reduce(manifest_properties) { |level, key| level.is_a?(Hash) ? level[key] : nil }
      value = spec_properties.dig(name, 'default') if value.nil?
      next if value.nil?

      *parents, leaf = name.split('.')
      parents.reduce(result) { |level, key| level[key] ||= {} }[leaf] = value
    end
  end

  # Renders every template of every job on every VM: { "group/index" => { "job" => { path => text } } }.
  # Raises with the VM, job and template named when one refuses.
  def render_all(release, variables)
    groups.each_with_object({}) do |group, result|
      instances(group).each do |instance|
        vm = "#{group['name']}/#{instance.index}"
        result[vm] = group['jobs'].to_h do |job|
          [job['name'], render_job(release, group, job, instance, variables, vm)]
        end
      end
    end
  end

  def render_job(release, group, job, instance, variables, vm)
    spec = job_spec(job['name'])
    links = spec.fetch('consumes', []).filter_map { |consumed| link_for(job, consumed, variables) }
    properties = ManifestOps.interpolate(job['properties'] || {}, variables)
    network = group['networks'].first['name']
    instance_spec = Bosh::Template::Test::InstanceSpec.new(
      address: instance.ip, az: instance.az, bootstrap: instance.index.zero?, deployment: manifest['name'],
      id: instance.id, index: instance.index, ip: instance.ip, name: group['name'],
      networks: { network => network_settings(group, instance) }
    )
    rendered = spec['templates'].values.to_h do |path|
      [path, release.job(job['name']).template(path).render(properties, spec: instance_spec, consumes: links)]
    rescue StandardError => e
      raise "#{vm} #{job['name']} #{path}: #{e.message}"
    end
    # The agent renders the monit file as ERB too, with the same properties, links and spec.
    monit = File.join(@release_dir, 'jobs', job['name'], 'monit')
    rendered['monit'] = Bosh::Template::Test::Template.new(spec, monit)
                                                      .render(properties, spec: instance_spec, consumes: links)
    rendered
  rescue StandardError => e
    raise e.message.start_with?(vm) ? e : "#{vm} #{job['name']} monit: #{e.message}"
  end
end
