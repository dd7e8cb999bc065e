#!/usr/bin/python3
"""bench/ha/report.py DATA.tsv: the markdown table of bench/ha/run.sh.

Per setting and scenario: the median outage with its spread (min-max and the interquartile
range), the runs, and the acknowledged writes lost over all runs; then the ratio of the tuned
median to the shipped one, with the ratio's spread (tuned min / shipped max .. tuned max /
shipped min), since single medians of a handful of runs on a shared machine are noisy.
"""
import csv
import statistics
import sys

TARGETS = {"primary-lost": 15.0, "vip-holder-lost": 10.0}


def quartiles(values):
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def main():
    rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
    groups = {}
    for row in rows:
        groups.setdefault((row["setting"], row["scenario"]), []).append(row)
    print("| setting | scenario | runs | outage median (s) | min-max | IQR | target | acked lost |")
    print("|---|---|---|---|---|---|---|---|")
    medians = {}
    for (setting, scenario), group in sorted(groups.items()):
        outages = sorted(float(r["outage_s"]) for r in group)
        lost = sum(int(r["lost"]) for r in group)
        acked = sum(int(r["acked"]) for r in group)
        low, high = quartiles(outages)
        median = statistics.median(outages)
        medians[(setting, scenario)] = (median, outages[0], outages[-1])
        print(f"| {setting} | {scenario} | {len(outages)} | {median:.1f} | "
              f"{outages[0]:.1f}-{outages[-1]:.1f} | {low:.1f}-{high:.1f} | "
              f"< {TARGETS.get(scenario, 0):.0f} | {lost} of {acked} |")
    scenarios = sorted({scenario for _, scenario in groups})
    if any(("tuned", s) in medians and ("shipped", s) in medians for s in scenarios):
        print()
        print("| scenario | tuned / shipped median | spread |")
        print("|---|---|---|")
        for scenario in scenarios:
            if ("tuned", scenario) in medians and ("shipped", scenario) in medians:
                t, t_min, t_max = medians[("tuned", scenario)]
                s, s_min, s_max = medians[("shipped", scenario)]
                print(f"| {scenario} | {t / s:.2f} | {t_min / s_max:.2f}-{t_max / s_min:.2f} |")


if __name__ == "__main__":
    main()
