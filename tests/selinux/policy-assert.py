"""What each secure_postgres domain may and may not do, asserted on a compiled policy.

Usage: /usr/bin/python3 policy-assert.py POLICY_FILE
One setools process answers every query (sesearch would parse the 2 MB policy once per
question). Rules on attributes count (indirect matching), conditional rules count whatever
their boolean's state: a "may not" holds only when no rule at all grants the permission.
Prints one "ok:"/"FAIL:" line per assertion; exit status 1 when any failed.
"""
import sys

import setools

policy = setools.SELinuxPolicy(sys.argv[1])
failures = 0


def report(passed, text):
    global failures
    print(("ok: " if passed else "FAIL: ") + text)
    if not passed:
        failures += 1


_rules_by_source = {}
_expanded = {}


def _rules_of(source):
    # One indirect query per source domain, then filtered in memory: a query per question
    # costs a scan of every rule in the policy.
    if source not in _rules_by_source:
        _rules_by_source[source] = list(
            setools.TERuleQuery(policy, ruletype=["allow"], source=source).results())
    return _rules_by_source[source]


def _types_of(target):
    name = str(target)
    if name not in _expanded:
        if isinstance(target, setools.policyrep.TypeAttribute):
            _expanded[name] = {str(t) for t in target.expand()}
        else:
            _expanded[name] = {name}
    return _expanded[name]


def allow_rules(source, tclass, perm, target=None):
    return [rule for rule in _rules_of(source)
            if str(rule.tclass) == tclass and (perm is None or perm in rule.perms) and
            (target is None or target in _types_of(rule.target))]


def targets(source, tclass, perm):
    names = set()
    for rule in allow_rules(source, tclass, perm):
        names.update(_types_of(rule.target))
    return names


def may(source, target, tclass, perm):
    report(bool(allow_rules(source, tclass, perm, target)), f"{source} may {perm} {target}:{tclass}")


def may_not(source, target, tclass, perm):
    rules = allow_rules(source, tclass, perm, target)
    report(not rules, f"{source} may not {perm} {target}:{tclass}" +
           (f" (granted by: {rules[0]})" if rules else ""))


def only(source, tclass, perm, expected):
    actual = targets(source, tclass, perm)
    report(actual == set(expected),
           f"{source} {perm} on {tclass}: exactly {sorted(expected)}" +
           ("" if actual == set(expected) else f", got {sorted(actual)}"))


def capabilities(source, tclass):
    perms = set()
    for rule in allow_rules(source, tclass, None, source):
        perms.update(rule.perms)
    return perms


def only_capabilities(source, tclass, expected):
    actual = capabilities(source, tclass)
    report(actual == set(expected), f"{source} {tclass}: exactly {sorted(expected)}" +
           ("" if actual == set(expected) else f", got {sorted(actual)}"))


def type_transitions(source, target):
    return [str(rule.default) for rule in
            setools.TERuleQuery(policy, ruletype=["type_transition"], source=source,
                                target=target, tclass=["process"]).results()]


print("== postgres: files")
pg = "secpg_postgres_t"
may(pg, "secpg_postgres_pkg_t", "file", "read")
may(pg, "secpg_postgres_pkg_t", "file", "execute")
may(pg, "secpg_postgres_exec_t", "file", "execute_no_trans")
may_not(pg, "secpg_postgres_pkg_t", "file", "write")
may_not(pg, "secpg_postgres_exec_t", "file", "write")
may_not(pg, "secpg_postgres_pkg_t", "dir", "add_name")
may_not(pg, "secpg_pgpool_pkg_t", "file", "read")
may(pg, "secpg_postgres_data_t", "file", "write")
may(pg, "secpg_postgres_data_t", "file", "create")
may(pg, "secpg_postgres_data_t", "dir", "add_name")
may_not(pg, "secpg_pgpool_data_t", "file", "read")
may_not(pg, "secpg_pgpool_data_t", "dir", "search")
may_not(pg, "var_t", "file", "read")
may_not(pg, "var_t", "file", "write")
may(pg, "secpg_postgres_conf_t", "file", "read")
may_not(pg, "secpg_postgres_conf_t", "file", "write")
may(pg, "secpg_postgres_log_t", "file", "append")
may(pg, "secpg_postgres_log_t", "file", "create")
may_not(pg, "secpg_postgres_log_t", "file", "write")
may_not(pg, "secpg_postgres_log_t", "file", "unlink")
may(pg, "secpg_postgres_run_t", "sock_file", "create")
may(pg, pg, "unix_stream_socket", "listen")
may_not(pg, "shadow_t", "file", "read")
may_not(pg, "user_home_t", "file", "read")
may_not(pg, "secpg_isolate_conf_t", "file", "read")

print("== postgres: ports and capabilities")
only(pg, "tcp_socket", "name_bind", ["secpg_postgres_port_t"])
only(pg, "tcp_socket", "name_connect", ["secpg_postgres_port_t"])
only(pg, "udp_socket", "name_bind", [])
only_capabilities(pg, "capability", [])
only_capabilities(pg, "capability2", [])
may_not(pg, "postgresql_port_t", "tcp_socket", "name_bind")

print("== pgpool")
pool = "secpg_pgpool_t"
only(pool, "tcp_socket", "name_bind", ["secpg_pgpool_port_t", "secpg_watchdog_port_t"])
only(pool, "tcp_socket", "name_connect", ["secpg_postgres_port_t", "secpg_watchdog_port_t"])
only(pool, "udp_socket", "name_bind", ["secpg_heartbeat_port_t"])
only_capabilities(pool, "capability", [])
may(pool, "secpg_pgpool_data_t", "file", "write")
may_not(pool, "secpg_postgres_data_t", "file", "read")
may_not(pool, "secpg_pgpool_pkg_t", "file", "write")
# The VIP broker's client runs in pgpool's own domain and only connects to the broker.
may(pool, "secpg_vip_exec_t", "file", "execute_no_trans")
may_not(pool, "secpg_vip_t", "process", "transition")
report(type_transitions(pool, "secpg_vip_exec_t") == [],
       "pgpool runs the VIP client in its own domain, never in secpg_vip_t")
may(pool, "secpg_vip_t", "unix_stream_socket", "connectto")
may(pool, "secpg_vip_run_t", "sock_file", "write")
may_not(pool, "secpg_vip_run_t", "sock_file", "create")
may_not(pool, "secpg_vip_conf_t", "file", "read")

print("== helpers")
only_capabilities("secpg_vip_t", "capability", ["net_admin", "net_raw"])
only_capabilities("secpg_isolate_t", "capability", ["net_admin"])
only("secpg_vip_t", "tcp_socket", "name_bind", [])
may("secpg_vip_t", "secpg_vip_t", "netlink_route_socket", "nlmsg_write")
may("secpg_vip_t", "secpg_vip_t", "packet_socket", "create")
may_not("secpg_vip_t", "secpg_vip_t", "netlink_netfilter_socket", "create")
may_not("secpg_vip_t", "secpg_vip_t", "rawip_socket", "create")
may("secpg_vip_t", "secpg_vip_run_t", "sock_file", "create")
may("secpg_vip_t", "secpg_vip_conf_t", "file", "read")
may_not("secpg_vip_t", "secpg_pgpool_conf_t", "file", "read")
may_not("secpg_vip_t", "secpg_pgpool_data_t", "file", "read")
may("initrc_t", "secpg_vip_t", "process", "transition")
only("secpg_vip_t", "file", "entrypoint", ["secpg_vip_exec_t"])
may("secpg_isolate_t", "secpg_isolate_t", "netlink_netfilter_socket", "write")
may("secpg_isolate_t", "sysctl_net_t", "file", "write")
may_not("secpg_isolate_t", "secpg_postgres_data_t", "file", "read")
may_not("secpg_vip_t", "secpg_postgres_data_t", "file", "read")

print("== transitions")
may("initrc_t", pg, "process", "transition")
may("unconfined_t", pg, "process", "transition")
may("initrc_t", pg, "process2", "nnp_transition")
may("initrc_t", "secpg_postgres_exec_t", "file", "execute")
only(pg, "file", "entrypoint", ["secpg_postgres_exec_t"])
only(pool, "file", "entrypoint", ["secpg_pgpool_exec_t"])
only(pg, "process", "transition", [])
report(type_transitions("initrc_t", "secpg_postgres_exec_t") == [pg],
       "initrc_t runs postgres in secpg_postgres_t automatically")
report(type_transitions("unconfined_t", "secpg_postgres_exec_t") == [],
       "unconfined_t enters secpg_postgres_t only by an explicit exec context")
for domain in ["secpg_postgres_t", "secpg_pgpool_t", "secpg_vip_t", "secpg_isolate_t"]:
    rules = list(setools.TERuleQuery(policy, ruletype=["allow"], target=domain, tclass=["process"],
                                     perms={"dyntransition"}).results())
    report(not rules, f"nothing may dyntransition into {domain}")

print("== port labels (the first matching portcon wins in the kernel)")
for protocol, port, expected in [("tcp", 5432, "secpg_postgres_port_t"),
                                 ("tcp", 9999, "secpg_pgpool_port_t"),
                                 ("tcp", 9898, "secpg_pgpool_port_t"),
                                 ("tcp", 9000, "secpg_watchdog_port_t"),
                                 ("udp", 9694, "secpg_heartbeat_port_t")]:
    first = next((str(p.context.type_) for p in policy.portcons()
                  if str(p.protocol) == protocol and p.ports.low <= port <= p.ports.high), None)
    report(first == expected, f"{protocol}/{port} is {expected}" +
           ("" if first == expected else f", got {first}"))

sys.exit(1 if failures else 0)
