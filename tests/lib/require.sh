# Sourced by shell tests. A test that cannot get what it needs exits 77 (CTest: skipped)
# on a developer's machine, and fails under CI=true, where a skipped test would hide a gap.

missing_prerequisite() {
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: prerequisite missing under CI: $*" >&2
    exit 1
  fi
  echo "SKIP: prerequisite missing: $*" >&2
  exit 77
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
