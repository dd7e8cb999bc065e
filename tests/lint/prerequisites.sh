#!/usr/bin/env bash
# A skip (exit 77) may only ever mean "nothing was tested" (issue 18, item 7: the sandbox tests
# checked the kernel log only before their staging runs, so outside CI the failures recorded
# before were reported as a skip). Checked, without root:
#   - tests/lib/require.sh as the sandbox tests use it (tests/integration/sandbox/lib/common.sh):
#     a missing prerequisite before any step skips (77; under CI=true fails), and after a
#     recorded failure, or a recorded pass, fails (1), under CI or not;
#   - every sandbox test script checks its prerequisites (sb_setup, sb_require_*, require_*,
#     missing_prerequisite) before its first step (sb_check, sb_pass, sb_fail,
#     sb_start_backend, sb_finish).
# Usage: prerequisites.sh [SOURCE_DIR] (default $PGGUARD_SOURCE_DIR)
set -uo pipefail
source_dir=${1:-${PGGUARD_SOURCE_DIR:?run through ctest or name the source dir}}
common=$source_dir/tests/integration/sandbox/lib/common.sh
[ -f "$common" ] || { echo "FAIL: $common not found" >&2; exit 1; }

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# outcome CI STEPS: the exit code of a test that sources common.sh, runs STEPS (shell code) and
# then finds a prerequisite missing. Runs in its own bash, so the library's traps stay there.
outcome() {
  local ci=$1 steps=$2
  env -u CI ${ci:+CI=$ci} bash -c '
    source "$1" >/dev/null 2>&1 || exit 3
    eval "$2" >/dev/null 2>&1
    missing_prerequisite "a prerequisite checked too late" 2>/dev/null
    exit 4  # missing_prerequisite returned' _ "$common" "$steps"
}
expect() {  # WANT CI STEPS WHAT
  local rc
  outcome "$2" "$3"
  rc=$?
  if [ "$rc" = "$1" ]; then
    echo "ok: $4: exit $rc"
  else
    fail "$4: exit $rc, want $1"
  fi
}
expect 77 "" "" "missing before any step, outside CI: skip"
expect 1 true "" "missing before any step, CI=true: failure"
expect 1 "" 'sb_fail "a step"' "missing after a recorded failure, outside CI: failure, not skip"
expect 1 true 'sb_fail "a step"' "missing after a recorded failure, CI=true: failure"
expect 1 "" 'sb_pass "a step"' "missing after a recorded pass, outside CI: failure, not skip"
expect 1 "" 'sb_check "a failing step" false' "missing after a failed sb_check: failure"

# The order in each script: the last prerequisite line must come before the first step line.
checked=0
for script in "$source_dir"/tests/integration/sandbox/*.sh; do
  checked=$((checked + 1))
  first_step=$(grep -nE '(^|[^_[:alnum:]])(sb_check|sb_pass|sb_fail|sb_start_backend|sb_finish)([^_[:alnum:]]|$)' \
    "$script" | grep -vE '^[0-9]+:[[:space:]]*#' | head -1 | cut -d: -f1)
  last_prerequisite=$(grep -nE '(^|[^_[:alnum:]])(sb_setup|sb_require_[a-z_]+|require_[a-z_]+|missing_prerequisite)([^_[:alnum:]]|$)' \
    "$script" | grep -vE '^[0-9]+:[[:space:]]*#' | tail -1 | cut -d: -f1)
  if [ -n "$first_step" ] && [ -n "$last_prerequisite" ] && [ "$last_prerequisite" -gt "$first_step" ]; then
    fail "${script#"$source_dir"/}:$last_prerequisite: a prerequisite checked after the first step (line $first_step)"
  fi
done
[ "$checked" -gt 0 ] || fail "no sandbox test scripts found under $source_dir"
echo "sandbox test scripts checked for prerequisites first: $checked"

if ((failures > 0)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
