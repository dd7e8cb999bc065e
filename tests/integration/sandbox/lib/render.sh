# shellcheck shell=bash
# Render a profile template: sb_render TEMPLATE OUTPUT NAME=VALUE...
# Every @NAME@ is replaced; a placeholder left over is an error, so a template and its test
# cannot drift apart silently.
sb_render() {
  local template=$1 output=$2 pair name value
  shift 2
  cp "$template" "$output"
  for pair in "$@"; do
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
