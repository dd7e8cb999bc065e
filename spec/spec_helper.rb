# frozen_string_literal: true

require 'json'
require 'open3'
require 'tmpdir'
require 'yaml'

require_relative '../local/lib/bosh_template'

RELEASE_DIR = File.expand_path('..', __dir__)

require_relative 'support/template_context'

module ReleaseHelpers
  def release
    Bosh::Template::Test::ReleaseDir.new(RELEASE_DIR)
  end

  # The job's spec file as a hash (the gem's Test::Job does not expose it).
  def job_spec(name)
    YAML.load_file(File.join(RELEASE_DIR, 'jobs', name, 'spec'))
  end

  # Runs a helper of this build (PGGUARD_BUILD_DIR, set by ctest) on a rendered file, the way
  # the job runs it on the VM: proves the template and the C++ parser agree. Skips outside
  # ctest, fails when the build lacks the program.
  def run_helper_on(program, rendered, file_name, *arguments)
    build_dir = ENV.fetch('PGGUARD_BUILD_DIR', nil)
    skip 'PGGUARD_BUILD_DIR is not set: run through ctest to check against the real parser' if build_dir.nil?
    path = File.join(build_dir, 'src/programs', program.delete_prefix('pgguard-'), program)
    raise "#{program} not built at #{path}" unless File.executable?(path)

    Dir.mktmpdir do |dir|
      file = File.join(dir, file_name)
      File.write(file, rendered)
      Open3.capture3(path, *arguments.map { |argument| argument == :file ? file : argument })
    end
  end

  def link_instances(*addresses)
    addresses.each_with_index.map do |address, index|
      Bosh::Template::Test::LinkInstance.new(name: 'job', index: index, address: address)
    end
  end
end

RSpec.configure do |config|
  config.include ReleaseHelpers
  config.expect_with(:rspec) { |expectations| expectations.syntax = :expect }
  config.disable_monkey_patching!
  config.order = :random
end
