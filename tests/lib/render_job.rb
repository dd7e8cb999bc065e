#!/usr/bin/env ruby
# frozen_string_literal: true

# render_job.rb JOB OUT_DIR INPUT_JSON: renders every template of jobs/JOB as a BOSH agent
# lays a job out on a VM (OUT_DIR = /var/vcap/jobs/JOB: rendered templates at their declared
# paths, bin/* executable, the monit file beside them), with the same renderer as the template
# tests (the bosh-template gem's Bosh::Template::Test API, or local/lib's stand-in where the
# gem is not installed). INPUT_JSON holds what the director would pass:
#   { "properties": {...manifest properties...},
#     "spec": {...InstanceSpec fields: ip, name, index, id, az, bootstrap, deployment...},
#     "links": { "<name>": { "instances": [{"address": ..., "index": ...}], "properties": {...} } } }
# A template that raises fails with its own message and exit 1, and nothing is written.

require 'fileutils'
require 'json'
require 'yaml'

require_relative '../../local/lib/bosh_template'

RELEASE_DIR = File.expand_path('../..', __dir__)

def usage!
  warn 'usage: render_job.rb JOB OUT_DIR INPUT_JSON'
  exit 2
end

usage! unless ARGV.length == 3
job_name, out_dir, input_path = ARGV
job_dir = File.join(RELEASE_DIR, 'jobs', job_name)
abort "render_job: no job '#{job_name}' in #{RELEASE_DIR}/jobs" unless File.directory?(job_dir)
input = JSON.parse(File.read(input_path))

spec_fields = (input['spec'] || {}).transform_keys(&:to_sym)
instance_spec = Bosh::Template::Test::InstanceSpec.new(**spec_fields)
links = (input['links'] || {}).map do |name, link|
  instances = link.fetch('instances', []).map do |instance|
    Bosh::Template::Test::LinkInstance.new(**instance.transform_keys(&:to_sym))
  end
  Bosh::Template::Test::Link.new(name: name, instances: instances, properties: link['properties'] || {})
end

job = Bosh::Template::Test::ReleaseDir.new(RELEASE_DIR).job(job_name)
templates = YAML.load_file(File.join(job_dir, 'spec')).fetch('templates', {})
rendered = templates.values.to_h do |destination|
  text = job.template(destination).render(input['properties'] || {}, spec: instance_spec, consumes: links)
  [destination, text]
rescue StandardError => e
  abort "render_job: #{job_name}/#{destination}: #{e.message}"
end

# The agent renders the monit file as ERB too, with the same properties, links and spec.
begin
  monit = Bosh::Template::Test::Template.new(YAML.load_file(File.join(job_dir, 'spec')), File.join(job_dir, 'monit'))
                                        .render(input['properties'] || {}, spec: instance_spec, consumes: links)
rescue StandardError => e
  abort "render_job: #{job_name}/monit: #{e.message}"
end

FileUtils.mkdir_p(out_dir)
rendered.each do |destination, text|
  path = File.join(out_dir, destination)
  FileUtils.mkdir_p(File.dirname(path))
  File.write(path, text)
  File.chmod(destination.start_with?('bin/') ? 0o755 : 0o644, path)
end
File.write(File.join(out_dir, 'monit'), monit)
