#include "postgres/roles_plan.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "common/error.hpp"
#include "common/strings.hpp"
#include "postgres/scram.hpp"

namespace pgguard::postgres {

namespace {

constexpr char kFieldSeparator = '\x1f';

std::string quote_identifier(const std::string& name) {
  return "\"" + name + "\"";
}

// Names are checked identifiers and verifiers are base64 with '$' and ':'; neither can hold a
// quote, but the literal is still escaped the standard way.
std::string quote_literal(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    out += c;
    if (c == '\'') {
      out += '\'';
    }
  }
  return out + "'";
}

std::string attributes(const RoleSpec& role) {
  return std::string(role.login ? "LOGIN" : "NOLOGIN") + " NOSUPERUSER" +
         (role.create_database ? " CREATEDB" : " NOCREATEDB") +
         (role.create_role ? " CREATEROLE" : " NOCREATEROLE") +
         (role.replication ? " REPLICATION" : " NOREPLICATION") + " NOBYPASSRLS";
}

bool attributes_match(const RoleSpec& role, const ExistingRole& existing) {
  return role.login == existing.login && role.create_database == existing.create_database &&
         role.create_role == existing.create_role && role.replication == existing.replication &&
         !existing.superuser;
}

bool boolean_field(const std::string& text, int line) {
  if (text == "true") {
    return true;
  }
  if (text == "false") {
    return false;
  }
  throw Error(ExitCode::system, "cluster state line " + std::to_string(line) +
                                    ": expected true or false, got '" + text + "'");
}

// A privilege a role flag grants: its key in the cluster state ("function SIGNATURE",
// "parameter NAME" or "role NAME", checked with has_function_privilege,
// has_parameter_privilege or pg_has_role) and the statement granting it.
struct Grant {
  std::string_view key;
  std::string_view statement;
};

// pg_promote and the synchronous standbys of the promoted node (pgguard-failover); nothing else.
constexpr std::array kFailoverGrants = {
    Grant{"function pg_promote(boolean,integer)",
          "GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO "},
    Grant{"function pg_reload_conf()", "GRANT EXECUTE ON FUNCTION pg_reload_conf() TO "},
    Grant{"parameter synchronous_standby_names",
          "GRANT ALTER SYSTEM ON PARAMETER synchronous_standby_names TO "},
};

// What pg_rewind reads from its source as a non-superuser (the PostgreSQL manual, pg_rewind),
// and the CHECKPOINT a just-promoted source needs first: until its first checkpoint on the new
// timeline its control file still names the old one, and pg_rewind finds nothing to rewind.
constexpr std::array kRewindGrants = {
    Grant{"role pg_checkpoint", "GRANT pg_checkpoint TO "},
    Grant{"function pg_ls_dir(text,boolean,boolean)",
          "GRANT EXECUTE ON FUNCTION pg_ls_dir(text, boolean, boolean) TO "},
    Grant{"function pg_stat_file(text,boolean)",
          "GRANT EXECUTE ON FUNCTION pg_stat_file(text, boolean) TO "},
    Grant{"function pg_read_binary_file(text)",
          "GRANT EXECUTE ON FUNCTION pg_read_binary_file(text) TO "},
    Grant{"function pg_read_binary_file(text,bigint,bigint,boolean)",
          "GRANT EXECUTE ON FUNCTION pg_read_binary_file(text, bigint, bigint, boolean) TO "},
};

template <typename Visit>
void for_each_grant(const RoleSpec& role, Visit visit) {
  if (role.failover) {
    std::for_each(kFailoverGrants.begin(), kFailoverGrants.end(), visit);
  }
  if (role.rewind) {
    std::for_each(kRewindGrants.begin(), kRewindGrants.end(), visit);
  }
}

std::string grant_keys_values() {
  std::string values;
  const auto add = [&values](const Grant& grant) {
    values += std::string(values.empty() ? "" : ", ") + "('" + std::string(grant.key) + "')";
  };
  std::for_each(kFailoverGrants.begin(), kFailoverGrants.end(), add);
  std::for_each(kRewindGrants.begin(), kRewindGrants.end(), add);
  return values;
}

}  // namespace

std::vector<std::string> commit_alone_statements() {
  // postgresql.auto.conf overrides the rendered synchronous_standby_names until the pair is
  // whole again (RESET).
  return {"ALTER SYSTEM SET synchronous_standby_names = ''", "SELECT pg_reload_conf()"};
}

std::vector<std::string> promotion_statements() {
  std::vector<std::string> statements = {"SELECT pg_promote(true, 60) WHERE pg_is_in_recovery()"};
  const auto alone = commit_alone_statements();
  statements.insert(statements.end(), alone.begin(), alone.end());
  return statements;
}

std::vector<std::string> grant_keys(const RoleSpec& role) {
  std::vector<std::string> keys;
  for_each_grant(role, [&keys](const Grant& grant) { keys.emplace_back(grant.key); });
  return keys;
}

std::string cluster_state_query() {
  // Booleans as text ('true'/'false'), so that every branch of the union has text columns.
  return "SELECT 'role', a.rolname, coalesce(a.rolpassword, ''), a.rolcanlogin::text,"
         " a.rolcreatedb::text, a.rolcreaterole::text, a.rolreplication::text, a.rolsuper::text,"
         " coalesce((SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m"
         " JOIN pg_authid g ON g.oid = m.roleid WHERE m.member = a.oid), '')"
         " FROM pg_authid a"
         " UNION ALL SELECT 'database', d.datname, pg_get_userbyid(d.datdba), '', '', '', '', '', "
         "''"
         " FROM pg_database d"
         " UNION ALL SELECT 'slot', s.slot_name, s.slot_type, '', '', '', '', '', ''"
         " FROM pg_replication_slots s"
         " UNION ALL SELECT 'grant', a.rolname, g.key, '', '', '', '', '', ''"
         " FROM pg_authid a CROSS JOIN (VALUES " +
         grant_keys_values() +
         ") g(key) WHERE NOT a.rolsuper AND CASE WHEN g.key LIKE 'function %'"
         " THEN has_function_privilege(a.oid, substr(g.key, 10), 'EXECUTE')"
         " WHEN g.key LIKE 'role %' THEN pg_has_role(a.oid, substr(g.key, 6), 'MEMBER')"
         " ELSE has_parameter_privilege(a.oid, substr(g.key, 11), 'ALTER SYSTEM') END;\n";
}

ClusterState parse_cluster_state(std::string_view output) {
  ClusterState state;
  int line_number = 0;
  for (const auto& line : split(output, "\n")) {
    ++line_number;
    std::vector<std::string> fields;
    std::size_t start = 0;
    while (true) {
      const auto end = line.find(kFieldSeparator, start);
      fields.push_back(line.substr(start, end == std::string::npos ? end : end - start));
      if (end == std::string::npos) {
        break;
      }
      start = end + 1;
    }
    if (fields.size() != 9) {
      throw Error(ExitCode::system, "cluster state line " + std::to_string(line_number) +
                                        ": expected 9 fields, got " +
                                        std::to_string(fields.size()));
    }
    if (fields[0] == "role") {
      ExistingRole role{fields[1],
                        fields[2],
                        boolean_field(fields[3], line_number),
                        boolean_field(fields[4], line_number),
                        boolean_field(fields[5], line_number),
                        boolean_field(fields[6], line_number),
                        boolean_field(fields[7], line_number),
                        split(fields[8], ","),
                        {}};
      state.roles.push_back(std::move(role));
    } else if (fields[0] == "database") {
      state.databases.push_back({fields[1], fields[2]});
    } else if (fields[0] == "slot") {
      state.slots.push_back(fields[1]);
    } else if (fields[0] == "grant") {
      const auto role =
          std::find_if(state.roles.begin(), state.roles.end(),
                       [&fields](const ExistingRole& r) { return r.name == fields[1]; });
      if (role == state.roles.end()) {
        throw Error(ExitCode::system, "cluster state line " + std::to_string(line_number) +
                                          ": a grant of unknown role '" + fields[1] + "'");
      }
      role->grants.push_back(fields[2]);
    } else {
      throw Error(ExitCode::system, "cluster state line " + std::to_string(line_number) +
                                        ": unknown kind '" + fields[0] + "'");
    }
  }
  return state;
}

std::string extensions_query() {
  return "SELECT extname FROM pg_extension ORDER BY 1;\n";
}

std::vector<std::string> parse_extensions(std::string_view output) {
  return split(output, "\n");
}

SqlPlan plan_sql(const NodePlan& plan, const ClusterState& state,
                 const std::function<std::vector<std::string>(const std::string&)>& extensions,
                 const SaltSource& salts) {
  SqlPlan sql;
  const auto find_role = [&state](const std::string& name) -> const ExistingRole* {
    const auto found = std::find_if(state.roles.begin(), state.roles.end(),
                                    [&name](const ExistingRole& r) { return r.name == name; });
    return found == state.roles.end() ? nullptr : &*found;
  };

  for (const auto& role : plan.roles) {
    const ExistingRole* existing = find_role(role.name);
    const auto verifier = [&role, &salts] {
      return quote_literal(format_verifier(make_verifier(role.password, salts())));
    };
    if (existing == nullptr) {
      sql.cluster_statements.push_back("CREATE ROLE " + quote_identifier(role.name) + " WITH " +
                                       attributes(role) + " PASSWORD " + verifier() + ";");
      sql.changes.push_back("created role " + role.name);
      continue;
    }
    if (!attributes_match(role, *existing)) {
      sql.cluster_statements.push_back("ALTER ROLE " + quote_identifier(role.name) + " WITH " +
                                       attributes(role) + ";");
      sql.changes.push_back("set the attributes of role " + role.name);
    }
    const auto stored = parse_verifier(existing->password);
    if (!stored || !verifier_matches(*stored, role.password)) {
      sql.cluster_statements.push_back("ALTER ROLE " + quote_identifier(role.name) + " PASSWORD " +
                                       verifier() + ";");
      sql.changes.push_back("set the password of role " + role.name);
    }
  }
  for (const auto& role : plan.roles) {
    const ExistingRole* existing = find_role(role.name);
    for (const auto& group : role.member_of) {
      if (existing == nullptr || std::find(existing->member_of.begin(), existing->member_of.end(),
                                           group) == existing->member_of.end()) {
        sql.cluster_statements.push_back("GRANT " + quote_identifier(group) + " TO " +
                                         quote_identifier(role.name) + ";");
        sql.changes.push_back("granted " + group + " to " + role.name);
      }
    }
  }
  for (const auto& role : plan.roles) {
    const ExistingRole* existing = find_role(role.name);
    const auto grant_missing = [&](const Grant& grant) {
      if (existing == nullptr || std::find(existing->grants.begin(), existing->grants.end(),
                                           grant.key) == existing->grants.end()) {
        sql.cluster_statements.push_back(std::string(grant.statement) +
                                         quote_identifier(role.name) + ";");
        sql.changes.push_back("granted " + std::string(grant.key) + " to " + role.name);
      }
    };
    for_each_grant(role, grant_missing);
  }
  for (const auto& database : plan.databases) {
    const auto existing =
        std::find_if(state.databases.begin(), state.databases.end(),
                     [&database](const ExistingDatabase& d) { return d.name == database.name; });
    if (existing == state.databases.end()) {
      sql.cluster_statements.push_back("CREATE DATABASE " + quote_identifier(database.name) +
                                       " OWNER " + quote_identifier(database.owner) + ";");
      sql.changes.push_back("created database " + database.name);
    } else if (existing->owner != database.owner) {
      sql.cluster_statements.push_back("ALTER DATABASE " + quote_identifier(database.name) +
                                       " OWNER TO " + quote_identifier(database.owner) + ";");
      sql.changes.push_back("made " + database.owner + " the owner of database " + database.name);
    }
    const auto installed =
        existing == state.databases.end() ? std::vector<std::string>{} : extensions(database.name);
    for (const auto& extension : database.extensions) {
      if (std::find(installed.begin(), installed.end(), extension) == installed.end()) {
        sql.database_statements.push_back(
            {database.name, "CREATE EXTENSION IF NOT EXISTS " + quote_identifier(extension) + ";"});
        sql.changes.push_back("created extension " + extension + " in database " + database.name);
      }
    }
  }
  for (const auto& slot : plan.replication_slots) {
    if (std::find(state.slots.begin(), state.slots.end(), slot) == state.slots.end()) {
      sql.cluster_statements.push_back("SELECT pg_create_physical_replication_slot(" +
                                       quote_literal(slot) + ");");
      sql.changes.push_back("created physical replication slot " + slot);
    }
  }
  return sql;
}

}  // namespace pgguard::postgres
