# shellcheck shell=bash
# Render a profile template: sb_render TEMPLATE OUTPUT NAME=VALUE...
# Every @NAME@ is replaced; a placeholder left over is an error, so a template and its test
# cannot drift apart silently. The package directories (on a VM: /var/vcap/packages/...) are
# where this host's programs come from unless a pair names them.
sb_render() {
  local template=$1 output=$2 pair name value
  shift 2
  cp "$template" "$output"
  for pair in "$@" "POSTGRES_DIR=$(dirname "${SB_PGBIN:-/usr/lib/postgresql/15/bin}")" \
    "PGPOOL_DIR=$(dirname "${SB_PGPOOL:-/usr/sbin/pgpool}")" \
    "PGGUARD_DIR=${SB_PGGUARD_DIR:-$(dirname "$(dirname "${SB_LAUNCH:-/usr/bin/pgguard-launch}")")}"; do
    name=${pair%%=*}
    value=${pair#*=}
    value=${value//\\/\\\\}
    value=${value//|/\\|}
    value=${value//&/\\&}
    sed -i "s|@${name}@|${value}|g" "$output"
  done
  if grep -n '@[A-Z_]*@' "$output" >&2; then
    echo "render: placeholders left in $output (from $template)" >&2
    return 1
  fi
  chmod 644 "$output"
}
