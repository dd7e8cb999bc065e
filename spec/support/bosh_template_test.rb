# frozen_string_literal: true

# The subset of the bosh-template gem's Bosh::Template::Test API that this release's specs use:
# ReleaseDir -> Job -> Template#render(properties, spec:, consumes:), Link, LinkInstance,
# InstanceSpec, and the ERB evaluation context (p, if_p, spec, link, if_link).
#
# Why it exists: the gem comes from RubyGems, which this project's machines cannot reach, and
# Debian does not package it. spec_helper.rb loads the real gem whenever it is installed, so the
# specs are written against the gem's API and run unchanged with either. Semantics follow the
# gem's documented behaviour: spec defaults fill unset properties, p() without a default raises
# UnknownProperty, links must be declared in the job spec, ERB trim mode '-'.

require 'erb'
require 'yaml'

module Bosh
  module Template
    class UnknownProperty < StandardError
      def initialize(names)
        super("Can't find property '#{Array(names).join("', or '")}'")
      end
    end

    class UnknownLink < StandardError
      def initialize(name)
        super("Can't find link '#{name}'")
      end
    end

    # Dotted-path lookup in nested hashes, as bosh-template does it.
    module PropertyLookup
      MISSING = Object.new.freeze

      def self.lookup(hash, dotted_name)
        dotted_name.to_s.split('.').reduce(hash) do |level, segment|
          return MISSING unless level.is_a?(Hash) && level.key?(segment)

          level[segment]
        end
      end

      def self.insert(hash, dotted_name, value)
        *parents, leaf = dotted_name.split('.')
        target = parents.reduce(hash) { |level, segment| level[segment] ||= {} }
        target[leaf] = value
      end
    end

    # Read-only struct view of the instance spec, as templates see `spec.address` etc.
    class SpecView
      def initialize(hash)
        @hash = hash
      end

      def [](key)
        wrap(@hash[key.to_s])
      end

      def to_h
        @hash
      end

      def respond_to_missing?(name, include_private = false)
        @hash.key?(name.to_s) || super
      end

      def method_missing(name, *args)
        return super unless args.empty? && @hash.key?(name.to_s)

        wrap(@hash[name.to_s])
      end

      private

      def wrap(value)
        value.is_a?(Hash) ? SpecView.new(value) : value
      end
    end

    # Each property accessor shares this: first found name wins, else default, else raise.
    module PropertyAccess
      def p(*args)
        names = Array(args[0])
        names.each do |name|
          value = PropertyLookup.lookup(@properties, name)
          return value unless value.equal?(PropertyLookup::MISSING) || value.nil?
        end
        return args[1] if args.length > 1

        raise UnknownProperty, names
      end

      def if_p(*names)
        values = names.map do |name|
          value = PropertyLookup.lookup(@properties, name)
          return ActiveElseBlock.new(false) if value.equal?(PropertyLookup::MISSING) || value.nil?

          value
        end
        yield(*values)
        ActiveElseBlock.new(true)
      end
    end

    class ActiveElseBlock
      def initialize(taken)
        @taken = taken
      end

      def else
        yield unless @taken
      end
    end

    class EvaluationLinkInstance
      attr_reader :name, :id, :index, :az, :address, :bootstrap

      def initialize(hash)
        @name = hash['name']
        @id = hash['id']
        @index = hash['index']
        @az = hash['az']
        @address = hash['address']
        @bootstrap = hash['bootstrap']
      end
    end

    class EvaluationLink
      include PropertyAccess
      attr_reader :instances, :properties

      def initialize(hash)
        @instances = hash.fetch('instances', []).map { |instance| EvaluationLinkInstance.new(instance) }
        @properties = hash.fetch('properties', {})
        @address = hash['address']
      end

      def address
        @address || raise('link has no address in this test: pass Link.new(address: ...)')
      end
    end

    class EvaluationContext
      include PropertyAccess
      attr_reader :spec

      def initialize(spec_hash)
        @properties = spec_hash.fetch('properties', {})
        @links = spec_hash.fetch('links', {})
        @spec = SpecView.new(spec_hash)
      end

      def link(name)
        raise UnknownLink, name unless @links.key?(name)

        EvaluationLink.new(@links[name])
      end

      def if_link(name)
        return ActiveElseBlock.new(false) unless @links.key?(name)

        yield link(name)
        ActiveElseBlock.new(true)
      end

      def get_binding
        binding
      end
    end

    module Test
      class InstanceSpec
        DEFAULTS = {
          address: 'my.bosh.com', az: 'az1', bootstrap: false, deployment: 'my-deployment',
          id: 'xxxxxx-xxxxxxxx-xxxxx', index: 0, ip: '192.168.0.0', name: 'me',
          networks: { 'network1' => { 'ip' => '192.168.0.0' } }
        }.freeze

        def initialize(**attributes)
          unknown = attributes.keys - DEFAULTS.keys
          raise ArgumentError, "unknown InstanceSpec attribute(s): #{unknown.join(', ')}" unless unknown.empty?

          @attributes = DEFAULTS.merge(attributes)
        end

        def to_h
          hash = @attributes.transform_keys(&:to_s)
          hash['job'] = { 'name' => hash['name'] }
          hash
        end
      end

      class LinkInstance
        attr_reader :name, :id, :index, :az, :address, :bootstrap

        def initialize(name: 'i-name', id: 'jkl8098', index: 4, az: 'az4',
                       address: 'link.instance.address.com', bootstrap: false)
          @name = name
          @id = id
          @index = index
          @az = az
          @address = address
          @bootstrap = bootstrap
        end

        def to_h
          { 'name' => name, 'id' => id, 'index' => index, 'az' => az, 'address' => address,
            'bootstrap' => bootstrap }
        end
      end

      class Link
        attr_reader :name, :instances, :properties, :address

        def initialize(name:, instances: [], properties: {}, address: nil)
          @name = name
          @instances = instances
          @properties = properties
          @address = address
        end

        def to_h
          { 'name' => name, 'instances' => instances.map(&:to_h), 'properties' => properties,
            'address' => address }
        end
      end

      class Template
        def initialize(job_spec_hash, template_path)
          @job_spec_hash = job_spec_hash
          @template_path = template_path
        end

        def render(manifest_properties_hash, spec: InstanceSpec.new, consumes: [])
          spec_hash = spec.to_h
          spec_hash['properties'] = properties_with_defaults(manifest_properties_hash)
          spec_hash['links'] = links_hash(consumes)
          raise "No such file at #{@template_path}" unless File.exist?(@template_path)

          context = EvaluationContext.new(spec_hash)
          ERB.new(File.read(@template_path), trim_mode: '-').result(context.get_binding)
        end

        private

        def properties_with_defaults(manifest_properties)
          @job_spec_hash.fetch('properties', {}).each_with_object({}) do |(name, definition), result|
            value = PropertyLookup.lookup(manifest_properties, name)
            value = nil if value.equal?(PropertyLookup::MISSING)
            value = definition['default'] if value.nil? && definition.is_a?(Hash)
            PropertyLookup.insert(result, name, value)
          end
        end

        def links_hash(links)
          declared = @job_spec_hash.fetch('consumes', []).map { |consumed| consumed['name'] }
          links.each do |link|
            raise "Link '#{link.name}' is not declared as a consumed link in this job." unless declared.include?(link.name)
          end
          links.to_h { |link| [link.name, link.to_h] }
        end
      end

      class Job
        attr_reader :spec

        def initialize(release_path, name)
          @job_path = File.join(release_path, 'jobs', name)
          @spec = YAML.load_file(File.join(@job_path, 'spec'))
          @templates = @spec.fetch('templates', {})
        end

        def template(rendered_path)
          source = @templates.key(rendered_path)
          raise "Template '#{rendered_path}' is not declared in the job spec" if source.nil?

          Template.new(@spec, File.join(@job_path, 'templates', source))
        end
      end

      class ReleaseDir
        def initialize(path)
          @path = path
        end

        def job(name)
          Job.new(@path, name)
        end
      end
    end
  end
end
