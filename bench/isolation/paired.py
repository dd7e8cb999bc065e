"""The packet-path samples of bench/isolation/run.sh: loading, paired ratios with intervals.

    python3 paired.py RESULT_DIR [RESULT_DIR...]

prints every scenario's ratios to no rules and to our ruleset, pooling the rounds of all the
given runs (a pair never leaves its run and round). run.sh's report uses the same code.
"""
import os
import random
import statistics
import sys

GRACEFUL, RESET, BULK = 0, 1, 2

NAMES = {
    "none": "no rules (no conntrack)",
    "isolate": "pgguard-isolate (nft sets)",
    "conntrack-only": "reference: conntrack + 3 rules",
    "iptables-legacy": "iptables-legacy, linear chain",
    "iptables-nft": "iptables-nft, linear chain",
    "variant-fib-new-flows": "variant: ours, fib only for packets opening a flow",
    "variant-input-only": "variant: ours, input chain only (fib in it)",
    "variant-issue-order": "variant: ours, anti-spoofing in input after established (no prerouting)",
    "variant-untracked": "variant: ours, members to postgres untracked",
}


def mark(ok):
    return "yes" if ok else "**NO**"


def rows(path):
    """The fields of every line of a run.sh data file, without its "#" header."""
    with open(path) as lines:
        return [line.split() for line in lines if line.strip() and not line.startswith("#")]


def load(result_dirs):
    """scenario -> (run, round) -> [graceful conn/s, reset conn/s, bulk bit/s]"""
    samples = {}
    for run, result in enumerate(result_dirs):
        for r, scenario, graceful, reset in rows(os.path.join(result, "conn.dat")):
            sample = samples.setdefault(scenario, {}).setdefault((run, int(r)), [None] * 3)
            sample[GRACEFUL], sample[RESET] = float(graceful), float(reset)
        for r, scenario, bps in rows(os.path.join(result, "bulk.dat")):
            samples.setdefault(scenario, {}).setdefault((run, int(r)), [None] * 3)[BULK] = float(bps)
    return samples


def median_of(samples, scenario, k):
    return statistics.median(v[k] for v in samples[scenario].values() if v[k] is not None)


class Ratio:
    """Median over rounds of scenario / reference within the same round, with a 95 % bootstrap
    interval of that median (2,000 resamples of the rounds, fixed seed: the same files give the
    same report)."""

    def __init__(self, samples, scenario, reference, k):
        ours, theirs = samples[scenario], samples[reference]
        pairs = [ours[r][k] / theirs[r][k] for r in ours
                 if r in theirs and ours[r][k] is not None and theirs[r][k] is not None]
        self.rounds = len(pairs)
        self.median = statistics.median(pairs)
        draw = random.Random(1)
        boot = sorted(statistics.median(draw.choices(pairs, k=len(pairs))) for _ in range(2000))
        self.low, self.high = boot[49], boot[1950]

    def __str__(self):
        return f"{self.median:.3f}x ({self.low:.3f}-{self.high:.3f})"

    def against(self, target):
        where = ("the whole interval is below it" if self.high < target else
                 "the whole interval is above it" if self.low >= target else
                 "the interval straddles it")
        return f"{self} {mark(self.median >= target)}, {where}"


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: paired.py RESULT_DIR [RESULT_DIR...]")
    samples = load(sys.argv[1:])
    print(f"Pooled rounds of {len(sys.argv) - 1} run(s): " + ", ".join(sys.argv[1:]) + "\n")
    print("| ruleset | rounds | graceful vs no rules | reset vs no rules | bulk vs no rules "
          "| graceful vs ours | reset vs ours | bulk vs ours |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for scenario in samples:
        if scenario == "none":
            continue
        to_none = [Ratio(samples, scenario, "none", k) for k in (GRACEFUL, RESET, BULK)]
        to_ours = ([Ratio(samples, scenario, "isolate", k) for k in (GRACEFUL, RESET, BULK)]
                   if scenario != "isolate" else [])
        print(f"| {NAMES.get(scenario, scenario)} | {to_none[0].rounds} | "
              + " | ".join(map(str, to_none)) + " | "
              + (" | ".join(map(str, to_ours)) if to_ours else "- | - | -") + " |")


if __name__ == "__main__":
    main()
