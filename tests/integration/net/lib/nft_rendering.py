#!/usr/bin/env python3
"""Compares the kernel's table, as nft itself decodes it (`nft -j list table inet NAME`), with
the plan's own text (`pgguard-isolate show`), set by set and rule by rule.

Independent of pgguard-isolate's netlink encoder: nft reads the kernel's expressions and
decodes them with its own code (a payload at network header offset 16 becomes "ip daddr" only
if it is 16), and this script turns nft's JSON back into nft syntax, the syntax `show` prints.
Usage: nft_rendering.py PLAN.nft KERNEL.json. Exit 0 in agreement, 1 with one line per
difference.

Normalised, and only this (each is something the plan cannot say, or says in a fixed order the
kernel need not keep):
  - handles of the table, sets, chains and rules: numbers the kernel assigns;
  - counter values: the packets and bytes seen so far; the plan only says "counter";
  - the order of a set's elements: a hash set lists in the kernel's hash order, show by key;
  - the order of sets and chains in the table (compared by name): nft lists them in handle
    order. The order of rules inside a chain decides packets and is compared as it is.
"""
import json
import re
import sys


def parse_plan(text):
    """The show text: table name, sets {name: {...}}, chains {name: (definition, [rules])}."""
    table, sets, chains = None, {}, {}
    current, kind, elements = None, None, None
    for line in text.splitlines():
        stripped = line.strip()
        if elements is not None:  # inside a multi-line "elements = { ... }"
            elements += " " + stripped
            if stripped.endswith("}"):
                current["elements"] = split_elements(elements)
                elements = None
            continue
        if not stripped or stripped.startswith("#"):
            continue
        if m := re.fullmatch(r"table inet (\S+) \{", stripped):
            table = m.group(1)
        elif m := re.fullmatch(r"set (\S+) \{", stripped):
            kind, current = "set", {"type": None, "flags": [], "size": None, "elements": []}
            sets[m.group(1)] = current
        elif m := re.fullmatch(r"chain (\S+) \{", stripped):
            kind, current = "chain", {"definition": None, "rules": []}
            chains[m.group(1)] = current
        elif stripped == "}":
            kind, current = None, None
        elif kind == "set":
            key, _, value = stripped.partition(" ")
            if key == "type":
                current["type"] = value
            elif key == "flags":
                current["flags"] = value.split(",")
            elif key == "size":
                current["size"] = int(value)
            elif key == "elements":
                elements = value
                if stripped.endswith("}"):
                    current["elements"] = split_elements(elements)
                    elements = None
        elif kind == "chain" and stripped.startswith("type "):
            current["definition"] = stripped
        elif kind == "chain":
            m = re.fullmatch(r'(.*) comment "(.*)"', stripped)
            current["rules"].append((m.group(1), m.group(2)) if m else (stripped, ""))
    return table, sets, chains


def split_elements(text):
    inner = text.strip().removeprefix("=").strip().removeprefix("{").removesuffix("}")
    return sorted(e.strip() for e in inner.split(",") if e.strip())


def value(v):
    if isinstance(v, (str, int)) and not isinstance(v, bool):
        return str(v)
    if isinstance(v, list):  # flags such as ct state established,related
        return ",".join(value(x) for x in v)
    if isinstance(v, dict) and set(v) == {"prefix"}:
        return f'{v["prefix"]["addr"]}/{v["prefix"]["len"]}'
    if isinstance(v, dict) and set(v) == {"range"}:
        return f'{value(v["range"][0])}-{value(v["range"][1])}'
    return json.dumps(v)  # anything else is kept whole, so it can only differ


def match(m):
    left, right, op = m["left"], m["right"], m["op"]
    if set(left) == {"payload"} and set(left["payload"]) == {"protocol", "field"}:
        text = f'{left["payload"]["protocol"]} {left["payload"]["field"]}'
    elif set(left) == {"meta"} and left["meta"]["key"] in ("iif", "oif"):
        # nft prints these keys without "meta", the interface's name quoted.
        text, right = left["meta"]["key"], f'"{right}"'
    elif set(left) == {"meta"}:
        text = f'meta {left["meta"]["key"]}'
    elif set(left) == {"ct"} and set(left["ct"]) == {"key"}:
        text = f'ct {left["ct"]["key"]}'
    elif set(left) == {"fib"} and isinstance(right, bool):
        fib = left["fib"]
        return f'fib {" . ".join(fib["flags"])} {fib["result"]} {"exists" if right else "missing"}'
    else:
        text = json.dumps(left)
    if op == "!=":
        return f"{text} != {value(right)}"
    if op in ("==", "in"):  # "in": a flag test (ct state), printed like a plain match
        return f"{text} {value(right)}"
    return f"{text} {op} {value(right)}"


def statement(s):
    (name, body), = s.items()
    if name == "match":
        return match(body)
    if name == "counter" and isinstance(body, dict) and set(body) == {"packets", "bytes"}:
        return "counter"
    if name in ("accept", "drop") and body is None:
        return name
    if name == "jump" and set(body) == {"target"}:
        return f'jump {body["target"]}'
    if name == "limit" and set(body) == {"rate", "burst", "per"}:
        return f'limit rate {body["rate"]}/{body["per"]} burst {body["burst"]} packets'
    if name == "log" and set(body) == {"prefix"}:
        return f'log prefix "{body["prefix"]}"'
    return json.dumps(s)  # an unexpected statement or field: shown whole, never matches


def main(plan_path, kernel_path):
    with open(plan_path, encoding="utf-8") as f:
        table, plan_sets, plan_chains = parse_plan(f.read())
    with open(kernel_path, encoding="utf-8") as f:
        objects = json.load(f)["nftables"]
    kernel_sets, kernel_chains, diffs, rules = {}, {}, [], 0
    for obj in objects:
        (kind, body), = obj.items()
        if kind == "metainfo":
            continue
        if body.get("family") != "inet" or body.get("table", body.get("name")) != table:
            diffs.append(f"object of another table: {json.dumps(obj)}")
        elif kind == "table":
            extra = set(body) - {"family", "name", "handle"}
            if extra:
                diffs.append(f"table has {sorted(extra)}: {json.dumps(body)}")
        elif kind == "set":
            kernel_sets[body["name"]] = {
                "type": body["type"], "flags": body.get("flags", []), "size": body.get("size"),
                "elements": sorted(value(e) for e in body.get("elem", []))}
            extra = set(body) - {"family", "name", "table", "type", "handle", "flags", "size",
                                 "elem"}
            if extra:
                diffs.append(f"set {body['name']} has {sorted(extra)}")
        elif kind == "chain":
            definition = None
            if "hook" in body:
                definition = (f'type {body["type"]} hook {body["hook"]} priority '
                              f'{body["prio"]}; policy {body["policy"]};')
            kernel_chains[body["name"]] = {"definition": definition, "rules": []}
        elif kind == "rule":
            text = " ".join(statement(s) for s in body["expr"])
            kernel_chains.setdefault(body["chain"], {"definition": "?", "rules": []})["rules"].append((text, body.get("comment", "")))
        else:
            diffs.append(f"unexpected {kind}: {json.dumps(body)}")

    for name in sorted(set(plan_sets) | set(kernel_sets)):
        want, got = plan_sets.get(name), kernel_sets.get(name)
        if want is None or got is None:
            diffs.append(f"set {name}: {'only in the kernel' if want is None else 'missing'}")
            continue
        for key in ("type", "flags", "size", "elements"):
            if want[key] != got[key]:
                diffs.append(f"set {name} {key}: kernel {got[key]}, plan {want[key]}")
    for name in sorted(set(plan_chains) | set(kernel_chains)):
        want, got = plan_chains.get(name), kernel_chains.get(name)
        if want is None or got is None:
            diffs.append(f"chain {name}: {'only in the kernel' if want is None else 'missing'}")
            continue
        if want["definition"] != got["definition"]:
            diffs.append(f"chain {name}: kernel {got['definition']!r}, plan {want['definition']!r}")
        for i in range(max(len(want["rules"]), len(got["rules"]))):
            w = want["rules"][i] if i < len(want["rules"]) else None
            g = got["rules"][i] if i < len(got["rules"]) else None
            if w != g:
                diffs.append(f"chain {name} rule {i + 1}:\n  kernel: {g}\n  plan:   {w}")
        rules += len(want["rules"])
    if table is None:
        diffs.append(f"{plan_path}: no 'table inet NAME {{' line")
    for line in diffs:
        print(line)
    if diffs:
        print(f"{len(diffs)} differences between the kernel's table and the plan")
        return 1
    print(f"table inet {table}: {len(plan_sets)} sets, {len(plan_chains)} chains and {rules} "
          "rules as the plan says")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
