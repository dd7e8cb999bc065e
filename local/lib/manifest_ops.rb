# frozen_string_literal: true

require 'json'

# The BOSH CLI's ops-files (go-patch) and variable interpolation, for the specs: the CLI is not
# installable here. Follows github.com/cppforlife/go-patch (patch/pointer.go, replace_op.go,
# remove_op.go at commit 2147782e467bf64b6d2d5d9466ec3d2a32eeccd6), for the operations this
# release's ops-files use:
# - `replace` and `remove`;
# - path tokens: `/key`, `/0` (index), `/-` (after the last item, replace only, last token),
#   `/key=value` (the one array item whose `key` is the string `value`); a `?` on a token makes
#   it and every later token optional: a missing key is created (replace) or the operation does
#   nothing (remove), a matching token that matches nothing appends `{key: value}` (replace) or
#   does nothing (remove);
# - errors where go-patch has them: a missing key or index without `?`, a matching token with
#   zero or several matches, a token of the wrong kind for the node.
# Not implemented (refused): `test` operations, `:prev`/`:next`/`:before`/`:after` modifiers.
module ManifestOps
  module_function

  # Loads YAML the way the CLI's yaml.v2 does for these files: anchors and aliases allowed, and
  # each alias a copy of its own (Psych would share one object between them, so an ops-file
  # changing one instance group would change the others too).
  def load_yaml(path)
    unshare(YAML.safe_load_file(path, aliases: true))
  end

  def unshare(value)
    JSON.parse(JSON.generate(value))
  end

  def apply(document, operations)
    raise 'an ops-file must be a list of operations' unless operations.is_a?(Array)

    operations.each_with_index.reduce(document) do |doc, (operation, index)|
      apply_one(doc, operation)
    rescue RuntimeError => e
      raise "operation [#{index}] #{operation['type']} #{operation['path']}: #{e.message}"
    end
  end

  def apply_one(document, operation)
    unknown = operation.keys - %w[type path value error]
    raise "unknown keys #{unknown.join(', ')}" unless unknown.empty?

    tokens = parse(operation['path'])
    case operation['type']
    when 'replace'
      raise 'replace needs a value' unless operation.key?('value')

      replace(document, tokens, unshare([operation['value']]).first)
    when 'remove'
      raise 'remove takes no value' if operation.key?('value')

      remove(document, tokens)
    else
      raise "unsupported operation type '#{operation['type']}'"
    end
  end

  Token = Struct.new(:kind, :key, :value, :index, :optional)

  def parse(path)
    raise "path '#{path}' must start with '/'" unless path.is_a?(String) && path.start_with?('/')

    optional = false
    pieces = path.split('/', -1).drop(1)
    pieces.each_with_index.map do |piece, position|
      raise "modifiers (#{piece}) are not supported" if piece.include?(':')

      piece = piece.gsub('~1', '/').gsub('~0', '~')
      next Token.new(:after_last) if piece == '-' && position == pieces.size - 1
      next Token.new(:index, nil, nil, Integer(piece, 10)) if piece.match?(/\A-?\d+\z/)

      optional ||= piece.end_with?('?')
      key, value = piece.split('=', 2)
      if value
        Token.new(:matching, key, value.delete_suffix('?'), nil, optional)
      else
        Token.new(:key, key.delete_suffix('?'), nil, nil, optional)
      end
    end
  end

  def replace(document, tokens, value)
    return value if tokens.empty?

    walk(document, tokens) do |parent, token, last, following|
      case token.kind
      when :after_last
        raise 'after-last token (-) must be the last' unless last

        parent << value
      when :index
        index = concrete_index(parent, token.index)
        last ? parent[index] = value : parent[index]
      when :matching
        found = matches(parent, token)
        if found.empty? && token.optional
          last ? parent << value : (parent << { token.key => token.value }).last
        else
          raise "expected one item with #{token.key}=#{token.value}, found #{found.size}" unless found.size == 1

          last ? parent[found.first] = value : parent[found.first]
        end
      when :key
        raise "expected a map at key '#{token.key}'" unless parent.is_a?(Hash)
        raise "missing key '#{token.key}' (add '?' to create it)" unless parent.key?(token.key) || token.optional

        if last
          parent[token.key] = value
        else
          parent[token.key] = new_container(following) unless parent.key?(token.key)
          parent[token.key]
        end
      end
    end
    document
  end

  def remove(document, tokens)
    raise 'cannot remove the entire document' if tokens.empty?

    catch(:nothing_to_do) do
      walk(document, tokens) do |parent, token, last|
        case token.kind
        when :after_last then raise 'after-last token (-) cannot be removed'
        when :index
          index = concrete_index(parent, token.index)
          last ? parent.delete_at(index) : parent[index]
        when :matching
          found = matches(parent, token)
          throw :nothing_to_do if found.empty? && token.optional
          raise "expected one item with #{token.key}=#{token.value}, found #{found.size}" unless found.size == 1

          last ? parent.delete_at(found.first) : parent[found.first]
        when :key
          raise "expected a map at key '#{token.key}'" unless parent.is_a?(Hash)
          throw :nothing_to_do if !parent.key?(token.key) && token.optional
          raise "missing key '#{token.key}'" unless parent.key?(token.key)

          last ? parent.delete(token.key) : parent[token.key]
        end
      end
    end
    document
  end

  # Calls the block with (node, token, last?, next token) for each token; the block returns the
  # next node.
  def walk(document, tokens)
    tokens.each_with_index.reduce(document) do |node, (token, position)|
      if %i[index matching after_last].include?(token.kind) && !node.is_a?(Array)
        raise "expected an array at token #{position + 1}, found #{node.class}"
      end

      yield(node, token, position == tokens.size - 1, tokens[position + 1])
    end
  end

  # The container replace creates for a missing key, chosen by the next token as go-patch does.
  def new_container(following)
    case following.kind
    when :after_last, :matching then []
    when :key then {}
    else raise 'a missing key can only be followed by a key, a matching or an after-last token'
    end
  end

  def matches(array, token)
    array.each_index.select { |i| array[i].is_a?(Hash) && array[i][token.key] == token.value }
  end

  # go-patch's ArrayIndex without modifiers: negative indexes count from the end;
  # out of range is an error.
  def concrete_index(array, index)
    concrete = index.negative? ? array.size + index : index
    raise "index #{index} out of range (#{array.size} items)" unless concrete >= 0 && concrete < array.size

    concrete
  end

  # `((name))` and `((name.key))` as the CLI and the director interpolate them: a value that is
  # a whole `((...))` takes the variable's value (any type); one inside a longer string is
  # replaced by its text.
  # With keep_unknown, a variable whose name is not among `variables` stays as it is, as the CLI
  # leaves what `-v`/`-l` do not define for the director's config server.
  def interpolate(node, variables, keep_unknown: false)
    case node
    when Hash then node.transform_values { |value| interpolate(value, variables, keep_unknown: keep_unknown) }
    when Array then node.map { |value| interpolate(value, variables, keep_unknown: keep_unknown) }
    when String
      known = ->(name) { !keep_unknown || variables.key?(name.split('.').first) }
      whole = node.match(/\A\(\(([\w.\-\/]+)\)\)\z/)
      return known.call(whole[1]) ? lookup(variables, whole[1]) : node if whole

      node.gsub(/\(\(([\w.\-\/]+)\)\)/) do |text|
        known.call(Regexp.last_match(1)) ? lookup(variables, Regexp.last_match(1)).to_s : text
      end
    else node
    end
  end

  # Every `((name))` in a document, by the variable's name (the part before the first dot).
  def variable_names(node)
    case node
    when Hash then node.values.flat_map { |value| variable_names(value) }.uniq
    when Array then node.flat_map { |value| variable_names(value) }.uniq
    when String then node.scan(/\(\(([\w.\-\/]+)\)\)/).map { |(name)| name.split('.').first }.uniq
    else []
    end
  end

  def lookup(variables, name)
    name.split('.').reduce(variables) do |value, segment|
      value = value[segment.match?(/\A\d+\z/) && value.is_a?(Array) ? segment.to_i : segment]
      raise "variable '#{name}' is not defined" if value.nil?

      value
    end
  end
end
