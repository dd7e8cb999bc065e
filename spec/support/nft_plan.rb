# frozen_string_literal: true

require 'ipaddr'

# Reads the ruleset `pgguard-isolate show` plans (nft -f syntax) and decides what it does with
# one TCP or UDP packet, rule by rule, the way nf_tables walks the chains: prerouting and input
# for a packet arriving, output for one leaving, all three over loopback for a local one.
# Only the expressions pgguard-isolate writes are understood; anything else raises, so a
# changed ruleset cannot be misread silently. The fib (reverse path) rule is taken as passing:
# the flows checked come from addresses with a route back through their interface. A `limit`
# is taken as under its rate.
class NftPlan
  Packet = Struct.new(:iif, :oif, :saddr, :daddr, :protocol, :dport, :ct_state, keyword_init: true)

  attr_reader :sets, :chains

  def initialize(text)
    @sets = {}
    @chains = {}
    parse(text)
  end

  # :accept or :drop for a packet arriving on `interface` (prerouting, then input).
  def inbound(packet)
    verdict = run_base('prerouting', packet)
    verdict == :accept ? run_base('input', packet) : verdict
  end

  def outbound(packet)
    run_base('output', packet)
  end

  private

  def parse(text)
    lines = text.lines.map(&:strip).reject { |line| line.empty? || line.start_with?('#') }
    index = 0
    while index < lines.size
      line = lines[index]
      if (name = line[/\Aset (\w+) \{\z/, 1])
        body = []
        body << lines[index += 1] until lines[index + 1] == '}'
        index += 1
        @sets[name] = set_elements(body.join(' '))
      elsif (name = line[/\Achain (\w+) \{\z/, 1])
        chain = { policy: nil, rules: [] }
        until lines[index + 1] == '}'
          rule = lines[index += 1]
          if rule.start_with?('type filter hook')
            chain[:policy] = rule[/policy (accept|drop);/, 1]&.to_sym
          else
            chain[:rules] << rule
          end
        end
        index += 1
        @chains[name] = chain
      end
      index += 1
    end
    %w[prerouting input output].each { |chain| raise "planned ruleset has no chain #{chain}" unless @chains[chain] }
  end

  def set_elements(body)
    list = body[/elements = \{(.*)\}/, 1]
    return [] if list.nil?

    list.split(',').map(&:strip)
  end

  def run_base(name, packet)
    verdict = run_chain(name, packet)
    verdict == :continue ? @chains.fetch(name)[:policy] : verdict
  end

  def run_chain(name, packet)
    @chains.fetch(name)[:rules].each do |rule|
      verdict = evaluate(rule, packet)
      next if verdict == :continue

      if verdict.is_a?(Array) # jump
        inner = run_chain(verdict.last, packet)
        next if inner == :continue

        return inner
      end
      return verdict
    end
    :continue
  end

  # The rule's verdict when every match holds (:accept, :drop, [:jump, chain]), else :continue.
  def evaluate(rule, packet)
    tokens = rule.sub(/ comment "[^"]*"\z/, '').scan(/"[^"]*"|\S+/)
    until tokens.empty?
      token = tokens.shift
      case token
      when 'counter' then next
      when 'accept' then return :accept
      when 'drop' then return :drop
      when 'jump' then return [:jump, tokens.shift]
      when 'log'
        tokens.shift(2) if tokens.first == 'prefix'
        next
      when 'limit'
        tokens.shift(tokens.index('packets') + 1)
        next
      when 'ct'
        raise "unknown ct match in: #{rule}" unless tokens.shift == 'state'

        return :continue unless tokens.shift.split(',').include?(packet.ct_state)
      when 'meta'
        raise "unknown meta match in: #{rule}" unless tokens.shift == 'l4proto'

        return :continue unless compare(tokens, rule) { |value| value == packet.protocol }
      when 'iif', 'oif'
        interface = tokens.shift.delete('"')
        return :continue unless (token == 'iif' ? packet.iif : packet.oif) == interface
      when 'ip', 'ip6'
        field = tokens.shift
        raise "unknown #{token} match in: #{rule}" unless %w[saddr daddr].include?(field)

        address = IPAddr.new(field == 'saddr' ? packet.saddr : packet.daddr)
        family_matches = token == 'ip' ? address.ipv4? : address.ipv6?
        result = compare(tokens, rule) { |value| address_in?(address, value) }
        return :continue unless family_matches && result
      when 'tcp', 'udp'
        raise "unknown #{token} match in: #{rule}" unless tokens.shift == 'dport'

        result = compare(tokens, rule) { |value| value.start_with?('@') ? @sets.fetch(value[1..]).include?(packet.dport.to_s) : value == packet.dport.to_s }
        return :continue unless packet.protocol == token && result
      when 'icmp', 'icmpv6'
        tokens.shift(2) # type|code VALUE: the flows checked are TCP or UDP
        return :continue
      when 'fib'
        tokens.shift(tokens.index('missing') + 1)
        return :continue # `... oif missing` does not hold: the flows checked have a route back
      else
        raise "unknown expression '#{token}' in: #{rule}"
      end
    end
    :continue
  end

  # Reads an optional `!=` and the value; yields the value, negates for `!=`.
  def compare(tokens, rule)
    negate = tokens.first == '!='
    tokens.shift if negate
    value = tokens.shift or raise "value missing in: #{rule}"
    result = yield(value)
    negate ? !result : result
  end

  def address_in?(address, value)
    elements = value.start_with?('@') ? @sets.fetch(value[1..]) : [value]
    elements.any? do |element|
      network = IPAddr.new(element)
      network.family == address.family && network.include?(address)
    end
  end
end
