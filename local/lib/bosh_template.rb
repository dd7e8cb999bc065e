# frozen_string_literal: true

# The bosh-template gem's test API (`Bosh::Template::Test`), or, where the gem is not installed
# (RubyGems is unreachable on this project's machines), its stand-in bosh_template_test.rb. The
# specs, the job renderer of the job tests and the local deployment all load it from here.
begin
  require 'bosh/template/test'
rescue LoadError
  require_relative 'bosh_template_test'
end
