#!/usr/bin/env bash
# Every program and job property the documentation names exists (issue 18, item 20): a
# document that drifts from the code fails here, as a broken link fails lint_references.
#   - programs: each `pgguard-NAME` in a markdown file is a program that src/programs builds
#     (pgguard_program or pgguard_static_pie_program), except the test work directories
#     (/tmp/pgguard-sbtest-*), which are no program;
#   - job properties: each backticked dotted name whose first part is that of some job
#     property (postgres., pgpool., isolation., ...) is a property of a job spec, or a group of
#     them (`isolation.control` for isolation.control.*); file names (`pgpool.conf`,
#     `isolation.conf.erb`, `pgpool.key`, ...) are not properties.
set -euo pipefail
cd "$PGGUARD_SOURCE_DIR"
mapfile -t documents < <(git ls-files -co --exclude-standard '*.md' | grep -v '/node_modules/')
[ "${#documents[@]}" -gt 0 ] || { echo "no markdown files found: wrong source dir?" >&2; exit 1; }

declare -A programs=()
while read -r name; do programs[$name]=1; done < <(
  sed -nE 's/^[[:space:]]*pgguard_(static_pie_)?program\((pgguard-[a-z-]+).*/\2/p' src/programs/*/CMakeLists.txt)
[ "${#programs[@]}" -ge 5 ] || { echo "found only ${#programs[@]} programs in src/programs" >&2; exit 1; }

mapfile -t properties < <(ruby -ryaml -e '
  Dir["jobs/*/spec"].sort.each { |f| (YAML.load_file(f)["properties"] || {}).each_key { |p| puts p } }' | sort -u)
[ "${#properties[@]}" -ge 20 ] || { echo "found only ${#properties[@]} job properties" >&2; exit 1; }
declare -A known=() prefixes=()
for property in "${properties[@]}"; do
  prefixes[${property%%.*}]=1
  group=$property
  while [ -n "$group" ]; do
    known[$group]=1
    [[ "$group" == *.* ]] && group=${group%.*} || group=""
  done
done

failures=0
checked=0
for document in "${documents[@]}"; do
  [ -f "$document" ] || continue
  while IFS=: read -r line name; do
    checked=$((checked + 1))
    case "$name" in pgguard-sbtest*) continue ;; esac
    if [ -z "${programs[$name]:-}" ]; then
      echo "$document:$line: names the program $name, which src/programs does not build" >&2
      failures=$((failures + 1))
    fi
  done < <(grep -noE 'pgguard-[a-z]+(-[a-z]+)*' "$document" || true)
  while IFS=: read -r line token; do
    name=${token//\`/}
    [ -n "${prefixes[${name%%.*}]:-}" ] || continue
    case "$name" in *.conf | *.in | *.erb | *.key | *.crt | *.pem | *.yml | *.sh | *.md | *.rb | *.pid | *.log | *.sock) continue ;; esac
    checked=$((checked + 1))
    if [ -z "${known[$name]:-}" ]; then
      echo "$document:$line: names the job property $name, which no job spec has" >&2
      failures=$((failures + 1))
    fi
  done < <(grep -noE '`[a-z_]+(\.[a-z0-9_]+)+`' "$document" || true)
done
echo "$checked program and property names checked in ${#documents[@]} documents against ${#programs[@]} programs and ${#properties[@]} job properties"
[ "$failures" -eq 0 ] || { echo "$failures names the code does not have" >&2; exit 1; }
