# frozen_string_literal: true

# The part of the BOSH CLI's ops-file and variable interpolation (go-patch) that this release's
# ops-files use: `replace` with `/key`, `/name=value`, a trailing `/-` (append) and an optional
# `?` (create when absent); `((name))` and `((name.index))` variables. The CLI is not
# installable here; specs apply the ops-files with this to check them against the job specs.
module ManifestOps
  module_function

  def apply(document, operations)
    operations.each do |operation|
      raise "unsupported ops-file operation type '#{operation['type']}'" unless operation['type'] == 'replace'

      replace(document, operation['path'].split('/').drop(1), deep_copy(operation['value']))
    end
    document
  end

  def interpolate(node, variables)
    case node
    when Hash then node.transform_values { |value| interpolate(value, variables) }
    when Array then node.map { |value| interpolate(value, variables) }
    when String
      whole = node.match(/\A\(\(([\w.-]+)\)\)\z/)
      return lookup(variables, whole[1]) if whole

      node.gsub(/\(\(([\w.-]+)\)\)/) { lookup(variables, Regexp.last_match(1)).to_s }
    else node
    end
  end

  def lookup(variables, name)
    name.split('.').reduce(variables) do |value, segment|
      value = value[segment.match?(/\A\d+\z/) && value.is_a?(Array) ? segment.to_i : segment]
      raise "variable '#{name}' is not defined" if value.nil?

      value
    end
  end

  def replace(node, segments, value)
    segment, *rest = segments
    optional = segment.end_with?('?')
    segment = segment.delete_suffix('?')
    if rest.empty?
      return node << value if segment == '-'

      return replace_selected(node, segment, optional, value)
    end
    replace(select(node, segment, optional), rest, value)
  end

  def select(node, segment, optional)
    if segment.include?('=')
      key, wanted = segment.split('=', 2)
      found = node.find { |item| item[key] == wanted }
      return found if found
      raise "ops-file path segment '#{segment}' matches nothing" unless optional

      node << { key => wanted }
      return node.last
    end
    node[segment] ||= (optional ? {} : raise("ops-file path segment '#{segment}' matches nothing"))
  end

  def replace_selected(node, segment, optional, value)
    if segment.include?('=')
      key, wanted = segment.split('=', 2)
      index = node.index { |item| item[key] == wanted }
      raise "ops-file path segment '#{segment}' matches nothing" if index.nil? && !optional

      index ? node[index] = value : node << value
    else
      node[segment] = value
    end
  end

  def deep_copy(value)
    Marshal.load(Marshal.dump(value))
  end
end
