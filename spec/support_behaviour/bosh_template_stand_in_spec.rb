# frozen_string_literal: true

# Pins the bosh-template gem's Bosh::Template::Test behaviour that this release's specs rely on, so
# local/lib/bosh_template_test.rb (the stand-in used when the gem is not installed) keeps
# behaving like the gem. Every example states what the gem does and passes under the real gem too
# (bosh-template 2.4.0): it uses only the gem's public API, never the stand-in's internals.
#
# Fixture jobs live in a fixture release (spec/fixtures/release/jobs/), not in this release's
# jobs/. The probe job's template evaluates the Ruby in its `probe.code` property inside the
# template context and renders the result's inspect, so one template probes any helper.
RSpec.describe 'Bosh::Template::Test (the bosh-template gem, or its stand-in)' do
  let(:fixture_release) { Bosh::Template::Test::ReleaseDir.new(File.expand_path('../fixtures/release', __dir__)) }
  let(:probe_job) { fixture_release.job('probe') }
  let(:probe) { probe_job.template('out/probe') }

  def link(name, **options)
    Bosh::Template::Test::Link.new(name: name, **options)
  end

  def instance(**options)
    Bosh::Template::Test::LinkInstance.new(**options)
  end

  # What `code` evaluates to in a template rendered with these properties, spec and links, as inspect.
  def evaluate(code, properties = {}, **render_options)
    probe.render(properties.merge('probe' => { 'code' => code }), **render_options)
  end

  describe 'ReleaseDir, Job and Template' do
    it 'finds a job under <release>/jobs and a template by its rendered path' do
      expect(probe.render({ 'probe' => { 'code' => '1 + 1' } })).to eq('2')
    end

    it 'has no Job#spec (read the job spec file instead)' do
      expect(probe_job).not_to respond_to(:spec)
    end

    it 'raises RuntimeError naming the possible rendered paths for an unknown one' do
      expect { probe_job.template('out/nope') }.to raise_error(
        RuntimeError,
        'Template for rendered path filename not found: out/nope. ' \
        'Possible values are: [out/probe, out/trim, out/absent]'
      )
    end

    it 'raises RuntimeError at render time when a declared template file does not exist' do
      template = probe_job.template('out/absent')
      path = File.expand_path('../fixtures/release/jobs/probe/templates/absent.erb', __dir__)
      expect { template.render({}) }.to raise_error(RuntimeError, "No such file at #{path}")
    end

    it 'reads job specs that use YAML anchors and aliases' do
      rendered = fixture_release.job('anchored').template('out/anchored').render({})
      expect(rendered).to eq("shared-default shared-default\n")
    end

    it 'fails with NoMethodError when the job spec has no properties key' do
      template = fixture_release.job('no-properties').template('out/static')
      expect { template.render({}) }.to raise_error(NoMethodError)
    end

    it "renders with ERB trim mode '-' (and no other trimming)" do
      expect(probe_job.template('out/trim').render({})).to eq("a\nb\nc\n\nd\n\ne 2f\n")
    end
  end

  describe 'properties: the job spec declares them, defaults fill in' do
    it 'gives the template every declared property, defaults applied, nil where unset without default' do
      expect(evaluate("raw_properties.reject { |key, _| key == 'probe' }")).to eq(
        { 'plain' => nil, 'with_default' => 'from-spec', 'false_default' => false,
          'nested' => { 'inner' => 1, 'deeper' => { 'leaf' => nil } } }.inspect
      )
    end

    it 'drops manifest properties the job spec does not declare' do
      expect(evaluate("raw_properties.key?('undeclared')", { 'undeclared' => 1 })).to eq('false')
      expect { evaluate("p('undeclared')", { 'undeclared' => 1 }) }.to raise_error(Bosh::Template::UnknownProperty)
    end

    it 'uses the spec default when the manifest value is nil, as when it is absent' do
      expect(evaluate("p('with_default')", { 'with_default' => nil })).to eq('"from-spec"')
      expect(evaluate("p('with_default')")).to eq('"from-spec"')
    end

    it 'keeps a manifest false over a default, and applies a false default' do
      expect(evaluate("p('with_default')", { 'with_default' => false })).to eq('false')
      expect(evaluate("p('false_default')")).to eq('false')
    end

    it 'looks manifest values up by the dotted names of the spec' do
      expect(evaluate("p('nested.deeper.leaf')", { 'nested' => { 'deeper' => { 'leaf' => 'x' } } })).to eq('"x"')
      expect(evaluate("p('nested.inner')", { 'nested' => { 'deeper' => { 'leaf' => 'x' } } })).to eq('1')
    end
  end

  describe 'p' do
    it 'returns the value of a set property' do
      expect(evaluate("p('plain')", { 'plain' => 'set' })).to eq('"set"')
    end

    it "raises UnknownProperty for an unset property, its message naming the Array of names" do
      expect { evaluate("p('plain')") }
        .to raise_error(Bosh::Template::UnknownProperty, %(Can't find property '["plain"]'))
    end

    it 'exposes the names on UnknownProperty#name' do
      evaluate("p(['plain', 'nested.deeper.leaf'])")
    rescue Bosh::Template::UnknownProperty => e
      expect(e.name).to eq(['plain', 'nested.deeper.leaf'])
      expect(e.message).to eq(%(Can't find property '["plain", "nested.deeper.leaf"]'))
    else
      raise 'expected UnknownProperty'
    end

    it 'treats a property that is nil like one that is absent' do
      expect { evaluate("p('undeclared')") }.to raise_error(Bosh::Template::UnknownProperty)
      expect { evaluate("p('plain')", { 'plain' => nil }) }.to raise_error(Bosh::Template::UnknownProperty)
      expect(evaluate("p('plain', 'fallback')", { 'plain' => nil })).to eq('"fallback"')
    end

    it 'returns the first set property of a list of names' do
      expect(evaluate("p(['plain', 'with_default'])")).to eq('"from-spec"')
      expect(evaluate("p(['with_default', 'plain'])", { 'plain' => 'set' })).to eq('"from-spec"')
    end

    it 'returns the default (even nil) for an unset property given exactly one default' do
      expect(evaluate("p('plain', 'fallback')")).to eq('"fallback"')
      expect(evaluate("p('plain', nil)")).to eq('nil')
      expect(evaluate("p(['plain', 'nested.deeper.leaf'], 7)")).to eq('7')
    end

    it 'raises UnknownProperty for an unset property given two defaults (it uses a default only when given one)' do
      expect { evaluate("p('plain', 'first', 'second')") }
        .to raise_error(Bosh::Template::UnknownProperty, %(Can't find property '["plain"]'))
    end

    it 'returns a set property whatever the number of defaults' do
      expect(evaluate("p('plain', 'first', 'second')", { 'plain' => 'set' })).to eq('"set"')
    end

    it 'returns false, which is set, rather than the default' do
      expect(evaluate("p('plain', 'fallback')", { 'plain' => false })).to eq('false')
    end
  end

  describe 'if_p and its else, else_if_p, else_if_link' do
    let(:consumes) { [link('primary', instances: [instance])] }

    def branch(code, properties = {})
      evaluate("taken = []; #{code}; taken", properties, consumes: consumes)
    end

    it 'yields the values when every property is set, then runs no else branch' do
      code = "if_p('with_default', 'nested.inner') { |a, b| taken << [a, b] }" \
             ".else_if_p('with_default') { taken << :else_if_p }.else { taken << :else }"
      expect(branch(code)).to eq([['from-spec', 1]].inspect)
    end

    it 'skips the block when any property is unset (nil or absent) and runs else' do
      expect(branch("if_p('with_default', 'plain') { taken << :if }.else { taken << :else }")).to eq('[:else]')
      expect(branch("if_p('undeclared') { taken << :if }.else { taken << :else }")).to eq('[:else]')
    end

    it 'returns from else the value of its block' do
      expect(evaluate("if_p('plain') { :if }.else { :else }")).to eq(':else')
    end

    it 'tries else_if_p when if_p fails, and runs else only when that fails too' do
      code = "if_p('plain') { taken << :if }.else_if_p('with_default') { |v| taken << v }.else { taken << :else }"
      expect(branch(code)).to eq('["from-spec"]')
      code = "if_p('plain') { taken << :if }.else_if_p('nested.deeper.leaf') { taken << :else_if }" \
             '.else { taken << :else }'
      expect(branch(code)).to eq('[:else]')
    end

    it 'tries else_if_link when if_p fails' do
      code = "if_p('plain') { taken << :if }.else_if_link('primary') { |l| taken << l.instances.size }" \
             '.else { taken << :else }'
      expect(branch(code)).to eq('[1]')
      code = "if_p('plain') { taken << :if }.else_if_link('secondary') { taken << :link }.else { taken << :else }"
      expect(branch(code)).to eq('[:else]')
    end
  end

  describe 'template helpers: properties, name, index, spec' do
    let(:instance_spec) do
      Bosh::Template::Test::InstanceSpec.new(name: 'pg', index: 2, ip: '10.0.0.5', bootstrap: true,
                                             address: 'pg-2.internal')
    end

    it 'offers properties, an OpenStruct view of the merged properties (unknown members are nil)' do
      expect(evaluate('properties.nested.inner')).to eq('1')
      expect(evaluate('properties.with_default')).to eq('"from-spec"')
      expect(evaluate('properties.undeclared')).to eq('nil')
    end

    it 'offers name (the instance spec name) and index' do
      expect(evaluate('[name, index]', spec: instance_spec)).to eq('["pg", 2]')
    end

    it 'defaults the instance spec to the InstanceSpec defaults' do
      code = '[spec.address, spec.az, spec.bootstrap, spec.deployment, spec.id, spec.index, spec.ip, spec.name, ' \
             'spec.job.name, spec.networks.network1.ip, spec.networks.network1.foo]'
      expect(evaluate(code)).to eq(
        ['my.bosh.com', 'az1', false, 'my-deployment', 'xxxxxx-xxxxxxxx-xxxxx', 0, '192.168.0.0', 'me', 'me',
         '192.168.0.0', 'bar'].inspect
      )
    end

    it 'passes the given instance spec: spec.bootstrap, spec.address, spec.ip, spec.index, spec.name' do
      code = '[spec.bootstrap, spec.address, spec.ip, spec.index, spec.name, spec.job.name]'
      expect(evaluate(code, spec: instance_spec)).to eq('[true, "pg-2.internal", "10.0.0.5", 2, "pg", "pg"]')
    end

    it 'reads spec fields by [] too' do
      expect(evaluate("[spec['address'], spec[:az]]")).to eq('["my.bosh.com", "az1"]')
    end

    it 'returns nil for a spec field that does not exist' do
      expect(evaluate('[spec.release, spec.no_such_field]')).to eq('[nil, nil]')
    end

    it "lists a spec hash's keys by methods(false) (the 'first network ip' idiom)" do
      expect(evaluate('spec.networks.send(spec.networks.methods(false).first).ip')).to eq('"192.168.0.0"')
    end

    it 'includes the merged properties and the links in spec' do
      expect(evaluate('spec.properties.with_default')).to eq('"from-spec"')
      expect(evaluate('spec.links.primary.instances.first.address', consumes: [link('primary', instances: [instance])]))
        .to eq('"link.instance.address.com"')
    end
  end

  describe 'InstanceSpec, Link, LinkInstance' do
    it 'builds the InstanceSpec hash with its defaults and job.name from name' do
      expect(Bosh::Template::Test::InstanceSpec.new(name: 'pg').to_h).to eq(
        'address' => 'my.bosh.com', 'az' => 'az1', 'bootstrap' => false, 'deployment' => 'my-deployment',
        'id' => 'xxxxxx-xxxxxxxx-xxxxx', 'index' => 0, 'ip' => '192.168.0.0', 'name' => 'pg',
        'networks' => { 'network1' => { 'foo' => 'bar', 'ip' => '192.168.0.0' } }, 'job' => { 'name' => 'pg' }
      )
    end

    it 'rejects unknown InstanceSpec keywords with ArgumentError' do
      expect { Bosh::Template::Test::InstanceSpec.new(zone: 'z1') }
        .to raise_error(ArgumentError, /unknown keyword: :zone/)
    end

    it 'builds the LinkInstance hash with its defaults' do
      expect(instance.to_h).to eq('name' => 'i-name', 'id' => 'jkl8098', 'index' => 4, 'az' => 'az4',
                                  'address' => 'link.instance.address.com', 'bootstrap' => false)
    end

    it 'rejects unknown LinkInstance keywords (no properties:) with ArgumentError' do
      expect { instance(properties: {}) }.to raise_error(ArgumentError, /unknown keyword: :properties/)
    end

    it 'requires a Link name and defaults instances, properties and address' do
      expect { Bosh::Template::Test::Link.new }.to raise_error(ArgumentError, /missing keyword: :name/)
      expect(link('primary').to_h).to eq('instances' => [], 'name' => 'primary', 'properties' => {}, 'address' => nil)
    end
  end

  describe 'links' do
    let(:instances) do
      [instance(name: 'pg', id: 'abc', index: 0, az: 'z1', address: '10.0.0.1', bootstrap: true), instance]
    end
    let(:primary) { link('primary', instances: instances, properties: { 'port' => 5432, 'tls' => { 'on' => false } }) }

    it 'gives link instances name, index, id, az, address, bootstrap, and nil properties' do
      code = 'i = link("primary").instances.first; [i.name, i.index, i.id, i.az, i.address, i.bootstrap, i.properties]'
      expect(evaluate(code, consumes: [primary])).to eq('["pg", 0, "abc", "z1", "10.0.0.1", true, nil]')
    end

    it 'gives link instances p and if_p over their (nil) properties' do
      code = 'i = link("primary").instances.first; [i.p("port", :none), i.if_p("port") { :if }.else { :else }]'
      expect(evaluate(code, consumes: [primary])).to eq('[:none, :else]')
      expect { evaluate('link("primary").instances.first.p("port")', consumes: [primary]) }
        .to raise_error(Bosh::Template::UnknownProperty, %(Can't find property '["port"]'))
    end

    it 'gives links their properties raw, and p over them (dotted names, defaults, UnknownProperty)' do
      code = 'l = link("primary"); [l.properties, l.p("port"), l.p("tls.on"), l.p("absent", 1), l.p(%w[absent port])]'
      expect(evaluate(code, consumes: [primary]))
        .to eq([{ 'port' => 5432, 'tls' => { 'on' => false } }, 5432, false, 1, 5432].inspect)
      expect { evaluate('link("primary").p("absent")', consumes: [primary]) }
        .to raise_error(Bosh::Template::UnknownProperty, %(Can't find property '["absent"]'))
      expect { evaluate('link("primary").p("absent", 1, 2)', consumes: [primary]) }
        .to raise_error(Bosh::Template::UnknownProperty)
    end

    it 'gives links if_p over their properties, with else_if_p on the link' do
      code = 'l = link("primary"); taken = []; ' \
             'l.if_p("port", "tls.on") { |port, on| taken << port << on }; ' \
             'l.if_p("absent") { taken << :if }' \
             '.else_if_p("port") { |port| taken << port + 1 }.else { taken << :else }; ' \
             'taken'
      expect(evaluate(code, consumes: [primary])).to eq('[5432, false, 5433]')
    end

    it "has no else_if_link after a link's if_p fails (a link has no if_link)" do
      expect { evaluate('link("primary").if_p("absent") { }.else_if_link("primary") { }', consumes: [primary]) }
        .to raise_error(NoMethodError)
    end

    it 'returns nil from link.address when the Link was given no address' do
      expect(evaluate('link("primary").address', consumes: [primary])).to eq('nil')
    end

    it "returns the Link's address from link.address, whatever the criteria" do
      with_address = link('primary', instances: instances, address: 'q-s0.pg.default.bosh')
      expect(evaluate('[link("primary").address, link("primary").address(azs: ["z1"])]', consumes: [with_address]))
        .to eq('["q-s0.pg.default.bosh", "q-s0.pg.default.bosh"]')
    end

    it 'raises UnknownLink for a declared link that was not given' do
      expect { evaluate('link("secondary")', consumes: [primary]) }
        .to raise_error(Bosh::Template::UnknownLink, "Can't find link 'secondary'")
    end

    it 'runs if_link with the link when given, else the else branch, and else_if_link / else_if_p after it' do
      code = 'taken = []; ' \
             'if_link("primary") { |l| taken << l.instances.size }.else { taken << :else }; ' \
             'if_link("secondary") { taken << :if }.else { taken << :else }; ' \
             'if_link("secondary") { taken << :if }.else_if_link("primary") { taken << :else_if_link }; ' \
             'if_link("secondary") { taken << :if }.else_if_p("with_default") { |v| taken << v }; ' \
             'if_link("primary") { }' \
             '.else_if_link("primary") { taken << :never }.else_if_p("with_default") { taken << :never }; ' \
             'taken'
      expect(evaluate(code, consumes: [primary])).to eq('[2, :else, :else_if_link, "from-spec"]')
    end

    it 'raises RuntimeError when given a link the job spec does not consume' do
      expect { evaluate('1', consumes: [primary, link('tertiary')]) }
        .to raise_error(RuntimeError, "Link 'tertiary' is not declared as a consumed link in this job.")
    end

    it 'uses the first of two links given with the same name' do
      code = 'link("primary").instances.size'
      expect(evaluate(code, consumes: [primary, link('primary')])).to eq('2')
    end
  end
end
