# frozen_string_literal: true

# What every template spec needs, given `template`, `properties`, `links` and `instance`:
# render with the realistic inputs, or with one property changed.
RSpec.shared_context 'rendering a job template' do
  def render(props = properties, consumes: links, spec: instance)
    template.render(props, spec: spec, consumes: consumes)
  end

  # A deep copy of `properties` with the dotted `path` set to `value`.
  def with(path, value)
    props = Marshal.load(Marshal.dump(properties))
    *parents, leaf = path.split('.')
    parents.reduce(props) { |level, key| level[key] ||= {} }[leaf] = value
    props
  end

  def golden(relative)
    File.read(File.join(RELEASE_DIR, 'spec/fixtures', relative))
  end
end
