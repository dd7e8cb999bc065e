# Sourced by shell tests. A test that cannot get what it needs exits 77 (CTest: skipped)
# on a developer's machine, and fails under CI=true, where a skipped test would hide a gap.
#
# Prerequisites come first, before any step of the test: a skip may only ever mean "nothing was
# tested". A test that records results and carries on (tests/integration/sandbox/lib/common.sh)
# calls require_steps_begun with its first recorded result; a prerequisite found missing after
# that fails the test, whatever the steps recorded, instead of turning it into a skip.
REQUIRE_STEPS_BEGUN=""  # this test's own, never inherited

missing_prerequisite() {
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: prerequisite missing under CI: $*" >&2
    exit 1
  fi
  if [ -n "$REQUIRE_STEPS_BEGUN" ]; then
    echo "FAIL: prerequisite found missing after the test's steps began ($REQUIRE_STEPS_BEGUN;" \
      "check it before any step, a skip must not hide what the steps recorded): $*" >&2
    exit 1
  fi
  echo "SKIP: prerequisite missing: $*" >&2
  exit 77
}

# require_steps_begun WHAT: the test's steps have begun with WHAT (its first recorded result);
# every prerequisite from here on is a failure, never a skip.
require_steps_begun() {
  [ -n "$REQUIRE_STEPS_BEGUN" ] || REQUIRE_STEPS_BEGUN="first step: $*"
}

require_root() {
  [ "$(id -u)" -eq 0 ] || missing_prerequisite "root privileges"
}

require_command() {
  local command
  for command in "$@"; do
    command -v "$command" >/dev/null 2>&1 || missing_prerequisite "command '$command'"
  done
}

require_netns() {
  require_root
  require_command ip
  local probe="pgguard-probe-$$"
  ip netns add "$probe" 2>/dev/null || missing_prerequisite "network namespaces (ip netns add failed)"
  ip netns del "$probe"
}

require_nftables() {
  require_netns
  require_command nft
  local probe="pgguard-probe-nft-$$"
  ip netns add "$probe"
  if ! ip netns exec "$probe" nft add table inet pgguard_probe 2>/dev/null; then
    ip netns del "$probe"
    missing_prerequisite "nftables in the kernel"
  fi
  ip netns del "$probe"
}
