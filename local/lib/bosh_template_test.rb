# Stand-in for the bosh-template gem's test API (`require 'bosh/template/test'`), used because the
# gem comes from RubyGems, which this project's machines cannot reach (Debian does not package it).
# spec_helper.rb loads the real gem whenever it is installed, so specs are written against the gem.
#
# It mirrors bosh-template 2.4.0 (RubyGems, 2023-01-12), whose lib/ is src/bosh-template/lib at
# cloudfoundry/bosh commit c2b49f74e5ed9dba61a1e09db30e498d21bc59e7. It is an independent,
# smaller implementation of that gem's behaviour; spec/support_behaviour/ pins the behaviour, and
# passes under the real gem too. Implemented:
# - Test::ReleaseDir#job, Test::Job#template (no Job#spec: the gem has none), the job spec read
#   with YAML aliases allowed;
# - Test::Template#render(properties, spec:, consumes:): only properties the job spec declares,
#   each the manifest value or, when that is nil or absent, the spec default; links must be
#   declared under `consumes` (first of duplicates wins); ERB trim mode '-';
# - Test::InstanceSpec, Test::Link, Test::LinkInstance with the gem's keywords, defaults, to_h;
# - the template context (Bosh::Template::EvaluationContext): p, if_p (and .else, .else_if_p,
#   .else_if_link), link, if_link, spec (OpenStruct view of the whole instance spec: unknown fields
#   are nil; methods(false) lists keys), properties (OpenStruct view), raw_properties, name (the
#   spec's job.name), index, lookup_property, ==;
# - links (EvaluationLink: instances, properties, p, if_p, address(criteria)) and their instances
#   (EvaluationLinkInstance: name, index, id, az, address, properties, bootstrap, p, if_p);
# - errors: UnknownProperty (message names the Array of names: "Can't find property '[\"a\"]'"),
#   UnknownLink, EvaluationFailed, and the gem's RuntimeError messages.
# Not mirrored: the rest of the gem (Renderer, bin/bosh-template) and PropertyHelper's
# copy_property, set_property, sort_property, validate_properties_format (with
# InvalidPropertyType), which the gem's templates could also call.
#
# No frozen_string_literal magic comment, on purpose: the gem has none, so default strings such as
# InstanceSpec's address reach templates unfrozen there too.

require 'erb'
require 'ostruct'
require 'yaml'

module Bosh
  module Template
    class UnknownProperty < StandardError
      attr_reader :name

      # names is the Array given to p; the message shows its inspect form, as the gem's does.
      def initialize(name)
        @name = name
        super("Can't find property '#{name}'")
      end
    end

    class UnknownLink < StandardError
      def initialize(name)
        super("Can't find link '#{name}'")
      end
    end

    class EvaluationFailed < StandardError; end

    module PropertyHelper
      extend self

      # Dotted name into nested hashes; nil when any step is missing or nil.
      def lookup_property(collection, name)
        return nil if collection.nil?

        name.split('.').reduce(collection) do |level, key|
          value = level[key]
          return nil if value.nil?

          value
        end
      end
    end

    # p and if_p as the gem gives them to the template context, to links and to link instances,
    # each over its own properties. A nil property counts as unset.
    module PropertyReaders
      def self.p(properties, args)
        names = Array(args[0])
        names.each do |name|
          value = PropertyHelper.lookup_property(properties, name)
          return value unless value.nil?
        end
        return args[1] if args.length == 2 # exactly one default; with two or more, unset raises

        raise UnknownProperty, names
      end

      def self.if_p(owner, properties, names)
        values = names.map do |name|
          value = PropertyHelper.lookup_property(properties, name)
          return EvaluationContext::ActiveElseBlock.new(owner) if value.nil?

          value
        end
        yield(*values)
        EvaluationContext::InactiveElseBlock.new
      end
    end

    class ManualLinkDnsEncoder
      def initialize(manual_link_address)
        @manual_link_address = manual_link_address
      end

      def encode_query(*_)
        @manual_link_address
      end
    end

    class EvaluationLinkInstance
      include PropertyHelper

      attr_reader :name, :index, :id, :az, :address, :properties, :bootstrap

      def initialize(name, index, id, az, address, properties, bootstrap)
        @name = name
        @index = index
        @id = id
        @az = az
        @address = address
        @properties = properties
        @bootstrap = bootstrap
      end

      def p(*args) = PropertyReaders.p(@properties, args)

      def if_p(*names, &block) = PropertyReaders.if_p(self, @properties, names, &block)
    end

    class EvaluationLink
      include PropertyHelper

      attr_reader :instances, :properties

      def initialize(instances, properties, group_name, group_type, default_network, deployment_name,
                     root_domain, dns_encoder, use_short_dns)
        @instances = instances
        @properties = properties
        @group_name = group_name
        @group_type = group_type
        @default_network = default_network
        @deployment_name = deployment_name
        @root_domain = root_domain
        @dns_encoder = dns_encoder
        @use_short_dns = use_short_dns
      end

      def p(*args) = PropertyReaders.p(@properties, args)

      def if_p(*names, &block) = PropertyReaders.if_p(self, @properties, names, &block)

      # Test::Link always carries an 'address' (nil unless given), so under the test API this is
      # the Link's address, whatever the criteria.
      def address(criteria = {})
        raise NotImplementedError, 'link.address requires bosh director' if @dns_encoder.nil?

        query = criteria.merge(group_name: @group_name, group_type: @group_type, default_network: @default_network,
                               deployment_name: @deployment_name, root_domain: @root_domain)
        @dns_encoder.encode_query(query, @use_short_dns)
      end
    end

    # What templates run in: `self` of the ERB binding.
    class EvaluationContext
      include PropertyHelper

      attr_reader :name, :index, :properties, :raw_properties, :spec

      def initialize(spec, dns_encoder)
        unless spec.is_a?(Hash)
          raise EvaluationFailed,
                "Invalid spec provided for template evaluation context, Hash expected, #{spec.class} given"
        end

        @name = spec['job'].is_a?(Hash) ? spec['job']['name'] : nil
        @index = spec['index']
        @spec = openstruct(spec, BackCompatOpenStruct)
        @raw_properties = spec['properties'] || {}
        @properties = openstruct(@raw_properties)
        @dns_encoder = dns_encoder
        @links = spec['links'] || {}
      end

      def ==(other)
        %i[spec raw_properties name index properties].all? do |member|
          other.respond_to?(member) && send(member) == other.send(member)
        end
      end

      def get_binding # rubocop:disable Naming/AccessorMethodName -- the gem's name
        binding
      end

      def p(*args) = PropertyReaders.p(@raw_properties, args)

      def if_p(*names, &block) = PropertyReaders.if_p(self, @raw_properties, names, &block)

      def link(name)
        link_spec = lookup_property(@links, name)
        raise UnknownLink, name if link_spec.nil? || !link_spec.key?('instances')

        create_evaluation_link(link_spec)
      end

      def if_link(name)
        link_spec = lookup_property(@links, name)
        return ActiveElseBlock.new(self) if link_spec.nil? || !link_spec.key?('instances')

        yield create_evaluation_link(link_spec)
        InactiveElseBlock.new
      end

      private

      def create_evaluation_link(link_spec)
        instances = link_spec['instances'].map do |instance|
          EvaluationLinkInstance.new(*instance.values_at('name', 'index', 'id', 'az', 'address', 'properties',
                                                         'bootstrap'))
        end
        encoder = link_spec.key?('address') ? ManualLinkDnsEncoder.new(link_spec['address']) : @dns_encoder
        group_name, group_type =
          if link_spec.fetch('use_link_dns_names', false)
            [link_spec['group_name'], 'link']
          else
            [link_spec['instance_group'], 'instance-group']
          end
        EvaluationLink.new(instances, link_spec['properties'], group_name, group_type, link_spec['default_network'],
                           link_spec['deployment_name'], link_spec['domain'], encoder,
                           link_spec.fetch('use_short_dns_addresses', false))
      end

      # Hashes (also inside arrays) become OpenStructs: unknown members read as nil.
      def openstruct(object, klass = OpenStruct)
        case object
        when Hash then klass.new(object.transform_values { |value| openstruct(value, klass) })
        when Array then object.map { |item| openstruct(item, klass) }
        else object
        end
      end

      # spec's OpenStruct: methods(false) lists its keys (the "first network's ip" idiom).
      class BackCompatOpenStruct < OpenStruct
        def methods(regular = true) # rubocop:disable Style/OptionalBooleanParameter -- Object#methods
          regular ? super : marshal_dump.keys
        end
      end

      # Returned when the condition failed: else runs its block, else_if_* tries the next condition.
      class ActiveElseBlock
        def initialize(template_context)
          @context = template_context
        end

        def else
          yield
        end

        def else_if_p(*names, &block)
          @context.if_p(*names, &block)
        end

        def else_if_link(name, &block)
          @context.if_link(name, &block)
        end
      end

      # Returned when a block already ran: nothing further runs.
      class InactiveElseBlock
        def else; end

        def else_if_p(*_names)
          InactiveElseBlock.new
        end

        def else_if_link(_name)
          InactiveElseBlock.new
        end
      end
    end

    module Test
      class InstanceSpec
        def initialize(address: 'my.bosh.com', az: 'az1', bootstrap: false, deployment: 'my-deployment',
                       id: 'xxxxxx-xxxxxxxx-xxxxx', index: 0, ip: '192.168.0.0', name: 'me',
                       networks: { 'network1' => { 'foo' => 'bar', 'ip' => '192.168.0.0' } })
          @fields = { 'address' => address, 'az' => az, 'bootstrap' => bootstrap, 'deployment' => deployment,
                      'id' => id, 'index' => index, 'ip' => ip, 'name' => name, 'networks' => networks }
        end

        def to_h
          @fields.merge('job' => { 'name' => @fields['name'] })
        end
      end

      class LinkInstance
        attr_reader :name, :id, :index, :az, :address, :bootstrap

        def initialize(name: 'i-name', id: 'jkl8098', index: 4, az: 'az4', address: 'link.instance.address.com',
                       bootstrap: false)
          @name = name
          @id = id
          @index = index
          @az = az
          @address = address
          @bootstrap = bootstrap
        end

        def to_h
          { 'name' => name, 'id' => id, 'index' => index, 'az' => az, 'address' => address, 'bootstrap' => bootstrap }
        end
      end

      class Link
        attr_reader :instances, :name, :properties, :address

        def initialize(name:, instances: [], properties: {}, address: nil)
          @instances = instances
          @name = name
          @properties = properties
          @address = address
        end

        def to_h
          { 'instances' => instances.map(&:to_h), 'name' => name, 'properties' => properties, 'address' => address }
        end
      end

      class Template
        include PropertyHelper

        def initialize(job_spec_hash, template_path)
          @job_spec_hash = job_spec_hash
          @template_path = template_path
        end

        def render(manifest_properties_hash, spec: InstanceSpec.new, consumes: [])
          context_spec = { 'properties' => properties_with_defaults(manifest_properties_hash) }.merge(spec.to_h)
          context_spec['links'] = consumed_links(consumes)
          context = EvaluationContext.new(context_spec, nil)
          raise "No such file at #{@template_path}" unless File.exist?(@template_path)

          ERB.new(File.read(@template_path), trim_mode: '-').result(context.get_binding)
        end

        private

        # Every property the job spec declares (and no other), nested by its dotted name. A job spec
        # without `properties` fails here with NoMethodError, as in the gem.
        def properties_with_defaults(manifest_properties)
          @job_spec_hash['properties'].each_with_object({}) do |(dotted_name, definition), result|
            value = lookup_property(manifest_properties, dotted_name)
            value = definition['default'] if value.nil?
            *parents, leaf = dotted_name.split('.')
            parents.reduce(result) { |level, key| level[key] ||= {} }[leaf] = value
          end
        end

        def consumed_links(links)
          declared = @job_spec_hash.fetch('consumes', []).map { |consumed| consumed['name'] }
          by_name = declared.each_with_object({}) do |name, result|
            link = links.find { |candidate| candidate.name == name }
            result[name] = link.to_h unless link.nil?
          end
          undeclared = links.find { |link| !declared.include?(link.name) }
          raise "Link '#{undeclared.name}' is not declared as a consumed link in this job." if undeclared

          by_name
        end
      end

      class Job
        def initialize(release_path, name)
          @job_path = File.join(release_path, 'jobs', name)
          @spec = YAML.load(File.read(File.join(@job_path, 'spec')), aliases: true)
          @templates = @spec['templates']
        end

        def template(rendered_file_name)
          source = @templates.key(rendered_file_name)
          if source.nil?
            raise "Template for rendered path filename not found: #{rendered_file_name}. " \
                  "Possible values are: [#{@templates.values.join(', ')}]"
          end

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
