# frozen_string_literal: true

require_relative '../../local/lib/deployment'

# The deployments this release ships: manifests/secure-postgres.yml with every combination of
# its ops-files that an operator can apply together, each with the cloud config it is meant
# for. At most one topology ops-file (multi-AZ or bosh-lite); any subset of the others.
module ManifestCombinations
  module_function

  MANIFESTS = File.join(RELEASE_DIR, 'manifests')
  TOPOLOGIES = [nil, 'multi-az', 'bosh-lite'].freeze
  INDEPENDENT = %w[async-replication external-vip tls-1.3].freeze

  def ops_path(name)
    File.join(MANIFESTS, 'operations', "#{name}.yml")
  end

  def all
    combos = TOPOLOGIES.flat_map do |topology|
      (0..INDEPENDENT.size).flat_map { |n| INDEPENDENT.combination(n).to_a }.map { |rest| [topology, *rest].compact }
    end
    combos + [%w[openstack-vip]]
  end

  # The cloud config a combination is deployed with, as the director merges it.
  def cloud_config(ops_files)
    if ops_files.include?('bosh-lite')
      base = ManifestOps.load_yaml(File.join(RELEASE_DIR, 'spec/fixtures/manifests/bosh-lite-cloud-config.yml'))
      return ManifestOps.apply(base, ManifestOps.load_yaml(File.join(MANIFESTS, 'cloud-config/bosh-lite-static-ips.yml')))
    end

    base = ManifestOps.load_yaml(File.join(MANIFESTS, 'cloud-config.yml'))
    return base unless ops_files.include?('openstack-vip')

    config = ManifestOps.apply(base, ManifestOps.load_yaml(File.join(MANIFESTS, 'cloud-config/openstack.yml')))
    named = ManifestOps.load_yaml(File.join(MANIFESTS, 'cloud-config/openstack-instance-vip.yml'))
    config.merge('vm_extensions' => config['vm_extensions'] + named['vm_extensions'])
  end

  def manifest(ops_files, base: File.join(MANIFESTS, 'secure-postgres.yml'))
    ops_files.reduce(ManifestOps.load_yaml(base)) do |document, name|
      ManifestOps.apply(document, ManifestOps.load_yaml(ops_path(name)))
    rescue RuntimeError => e
      raise "#{name}.yml does not apply: #{e.message}"
    end
  end

  def deployment(ops_files)
    Deployment.new(manifest(ops_files), cloud_config(ops_files), release_dir: RELEASE_DIR)
  end

  def label(ops_files)
    ops_files.empty? ? 'secure-postgres.yml' : "secure-postgres.yml -o #{ops_files.join(' -o ')}"
  end
end
