"""Shares of busy CPU time in netfilter, from `perf report --children --sort sym -g none`.

Reads the report on stdin, prints one line for bench/isolation/run.sh's profile.dat:
    <scenario> <load> <busy %> <hooks %> <rules %> <conntrack %>
busy: samples not in the idle loop, as a share of all samples (both CPUs). The other three are
shares of the busy samples, inclusive of what they call:
    hooks      nf_hook_slow: every netfilter hook, rules and conntrack together
    rules      the rule evaluators: nft_do_chain_inet (our table, the conntrack reference),
               nft_do_chain_ipv4 (iptables-nft), ipt_do_table (iptables-legacy)
    conntrack  nf_conntrack_in (lookup, creation, TCP state) and nf_confirm (insertion)
"""
import re
import sys

IDLE = re.compile(r"(safe_halt|default_idle|cpuidle_enter|poll_idle|mwait_idle|intel_idle|acpi_idle)")
RULES = ("nft_do_chain_inet", "nft_do_chain_ipv4", "ipt_do_table")
CONNTRACK = ("nf_conntrack_in", "nf_confirm")


def main():
    scenario, load = sys.argv[1], sys.argv[2]
    children, idle = {}, 0.0
    line = re.compile(r"^\s+([0-9.]+)%\s+([0-9.]+)%\s+\[[k.]\]\s+(\S+)")
    for text in sys.stdin:
        match = line.match(text)
        if not match:
            continue
        inclusive, own, symbol = float(match.group(1)), float(match.group(2)), match.group(3)
        children[symbol] = inclusive
        if IDLE.search(symbol):
            idle += own
    busy = 100.0 - idle
    if busy <= 0:
        sys.exit("cpu_shares.py: no busy samples in the profile")

    def share(symbols):
        return 100.0 * sum(children.get(s, 0.0) for s in symbols) / busy

    print(f"{scenario} {load} {busy:.1f} {share(['nf_hook_slow']):.2f} {share(RULES):.2f} "
          f"{share(CONNTRACK):.2f}")


if __name__ == "__main__":
    main()
