#!/usr/bin/python3
"""bench/ha/report.py DATA.tsv: the markdown table of bench/ha/run.sh.

Per setting, scenario and measure: the median with its spread (min-max and the interquartile
range), the runs, and the acknowledged writes lost over all runs. The measures: "first write"
(from the loss to the first write acknowledged through the VIP) for every scenario, and "VIP
answers" (from the loss to the first TCP connection the VIP accepts) for the VIP holder's.
Issue 15's targets: a failover's first write under 15 s, the VIP answering under 10 s. Then the
ratio of the tuned median to the shipped one, with the ratio's spread (tuned min / shipped max
.. tuned max / shipped min), since single medians of a handful of runs on a shared machine are
noisy.
"""
import csv
import statistics
import sys

# scenario -> [(measure, column, target or None)]
MEASURES = {
    "primary-lost": [("first write", "outage_s", 15.0)],
    "vip-holder-lost": [("VIP answers", "vip_answer_s", 10.0), ("first write", "outage_s", None)],
}


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
    print("| setting | scenario | measure | runs | median (s) | min-max | IQR | target | acked lost |")
    print("|---|---|---|---|---|---|---|---|---|")
    medians = {}
    for (setting, scenario), group in sorted(groups.items()):
        lost = sum(int(r["lost"]) for r in group)
        acked = sum(int(r["acked"]) for r in group)
        for measure, column, target in MEASURES[scenario]:
            values = sorted(float(r[column]) for r in group)
            low, high = quartiles(values)
            median = statistics.median(values)
            medians[(setting, scenario, measure)] = (median, values[0], values[-1])
            over = sum(1 for v in values if target is not None and v >= target)
            target_text = f"< {target:.0f} ({over} over)" if target is not None else "-"
            print(f"| {setting} | {scenario} | {measure} | {len(values)} | {median:.1f} | "
                  f"{values[0]:.1f}-{values[-1]:.1f} | {low:.1f}-{high:.1f} | {target_text} | "
                  f"{lost} of {acked} |")
    keys = sorted({(scenario, measure) for _, scenario, measure in medians})
    pairs = [(s, m) for s, m in keys if ("tuned", s, m) in medians and ("shipped", s, m) in medians]
    if pairs:
        print()
        print("| scenario | measure | tuned / shipped median | spread |")
        print("|---|---|---|---|")
        for scenario, measure in pairs:
            t, t_min, t_max = medians[("tuned", scenario, measure)]
            s, s_min, s_max = medians[("shipped", scenario, measure)]
            print(f"| {scenario} | {measure} | {t / s:.2f} | {t_min / s_max:.2f}-{t_max / s_min:.2f} |")


if __name__ == "__main__":
    main()
