# frozen_string_literal: true

require 'json'
require 'yaml'

begin
  require 'bosh/template/test'
rescue LoadError
  # RubyGems is unreachable on this project's machines; see support/bosh_template_test.rb.
  require_relative 'support/bosh_template_test'
end

RELEASE_DIR = File.expand_path('..', __dir__)

module ReleaseHelpers
  def release
    Bosh::Template::Test::ReleaseDir.new(RELEASE_DIR)
  end

  # The job's spec file as a hash (the gem's Test::Job does not expose it).
  def job_spec(name)
    YAML.load_file(File.join(RELEASE_DIR, 'jobs', name, 'spec'))
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
