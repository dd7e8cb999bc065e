"""Rewrites `pgguard-isolate show` output into the rulesets `run.sh --variants` measures.

    python3 variants.py <variant> < ours.nft > variant.nft

Each variant answers one question about where our packet-path cost comes from; none of them is
a ruleset to deploy:
    fib-new-flows    the reverse-path (fib) rule moved from raw prerouting, where every packet
                     crosses it before conntrack, into input after the established-traffic rule,
                     where only packets opening a flow do
    input-only       fib-new-flows without the prerouting and output chains: our input policy
                     alone, the floor under any layout of the same policy
    issue-order      no prerouting chain: its anti-spoofing rules (own and loopback addresses,
                     fib) move into input after the established and loopback rules, the order
                     issue 3's text lists them in; output stays
    untracked        ours plus raw `notrack` for members to postgres and its replies, and an
                     input rule accepting those untracked packets early (IPv4, the benchmark's
                     traffic): the role port's traffic bypasses conntrack altogether
A rewrite that no longer finds the text it expects fails loudly instead of measuring something
else.
"""
import sys

FIB = "fib saddr . iif oif missing"
INPUT_LOOPBACK = '\t\tiif "lo" counter accept comment "loopback"\n'


def replace_once(text, old, new):
    if text.count(old) != 1:
        sys.exit(f"variants.py: expected exactly one {old.strip()!r} in the ruleset")
    return text.replace(old, new)


def drop_chain(text, name):
    start = text.find(f"\tchain {name} {{\n")
    if start < 0:
        sys.exit(f"variants.py: no chain {name} in the ruleset")
    end = text.index("\t}\n", start) + len("\t}\n")
    return text[:start] + text[end:]


def in_input(text, rule, before_loopback):
    """Inserts a rule next to the input chain's loopback rule."""
    input_chain = text.find("\tchain input {\n")
    at = text.find(INPUT_LOOPBACK, input_chain)
    if input_chain < 0 or at < 0:
        sys.exit("variants.py: no loopback rule in the input chain")
    if not before_loopback:
        at += len(INPUT_LOOPBACK)
    return text[:at] + rule + text[at:]


def issue_order(text):
    start = text.find("\tchain prerouting {\n")
    if start < 0:
        sys.exit("variants.py: no chain prerouting in the ruleset")
    body = text[start:text.index("\t}\n", start)].splitlines(keepends=True)[1:]
    rules = [line for line in body if "type filter hook" not in line and 'iif "lo"' not in line]
    if not any(FIB in line for line in rules):
        sys.exit(f"variants.py: no {FIB!r} rule in prerouting")
    return in_input(drop_chain(text, "prerouting"), "".join(rules), before_loopback=False)


def fib_rule(text):
    lines = [line for line in text.splitlines(keepends=True) if FIB in line]
    if len(lines) != 1:
        sys.exit(f"variants.py: expected exactly one {FIB!r} rule")
    return lines[0]


def fib_new_flows(text):
    fib_line = fib_rule(text)
    return in_input(replace_once(text, fib_line, ""), fib_line, before_loopback=False)


def untracked(text):
    fib_line = fib_rule(text)
    text = replace_once(
        text, fib_line, fib_line +
        '\t\ttcp dport 5432 ip saddr @members4 notrack comment "bench: members to postgres"\n'
        '\t\ttcp dport 5432 ip6 saddr @members6 notrack comment "bench: members to postgres"\n')
    text = in_input(
        text, '\t\tct state untracked tcp dport 5432 ip saddr @members4 counter accept '
        'comment "bench: untracked members to postgres"\n', before_loopback=True)
    return replace_once(
        text, "\tchain output {\n",
        "\tchain output_raw {\n"
        "\t\ttype filter hook output priority -300; policy accept;\n"
        '\t\ttcp sport 5432 ip daddr @members4 notrack comment "bench: postgres replies"\n'
        '\t\ttcp sport 5432 ip6 daddr @members6 notrack comment "bench: postgres replies"\n'
        "\t}\n\n\tchain output {\n")


VARIANTS = {
    "fib-new-flows": fib_new_flows,
    "input-only": lambda text: drop_chain(drop_chain(fib_new_flows(text), "prerouting"), "output"),
    "untracked": untracked,
    "issue-order": issue_order,
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in VARIANTS:
        sys.exit(f"usage: variants.py {'|'.join(VARIANTS)} < ours.nft > variant.nft")
    sys.stdout.write(VARIANTS[sys.argv[1]](sys.stdin.read()))


if __name__ == "__main__":
    main()
