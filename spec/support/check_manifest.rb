#!/usr/bin/env ruby
# frozen_string_literal: true

# Runs the manifest specs' checks on one manifest file, outside RSpec, for the Service-Fabrik
# template's Node test (manifests/service-fabrik/test/): every problem
# local/lib/deployment.rb finds, then every template of every job rendered on every VM.
#
#   ruby spec/support/check_manifest.rb MANIFEST CLOUD_CONFIG
#
# Exit 0 and "ok: N VMs rendered" when deployable; 1 with one problem per line otherwise.
require 'yaml'
require_relative '../../local/lib/bosh_template'
require_relative '../../local/lib/deployment'

release_dir = File.expand_path('../..', __dir__)
manifest_path, cloud_config_path = ARGV
abort 'usage: check_manifest.rb MANIFEST CLOUD_CONFIG' unless manifest_path && cloud_config_path

deployment = Deployment.new(ManifestOps.load_yaml(manifest_path), ManifestOps.load_yaml(cloud_config_path),
                            release_dir: release_dir)
problems = deployment.problems
unless problems.empty?
  puts problems
  exit 1
end
begin
  variables = CredHubStandIn.new.generate(deployment.manifest['variables'])
  rendered = deployment.render_all(Bosh::Template::Test::ReleaseDir.new(release_dir), variables)
rescue RuntimeError => e
  puts e.message
  exit 1
end
puts "ok: #{rendered.size} VMs rendered"
