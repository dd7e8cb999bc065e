#!/usr/bin/env bash
# Every document the project refers to must be part of it (issue 18, item 15: a source comment
# and docs/sandbox.md once cited notes that were never in the repository). Checked:
#   - markdown links to local files resolve, relative to the document that holds them;
#   - a document cited by its conventional all-caps name (README, CHANGELOG, CONTRIBUTING,
#     HACKING, or any name ending in NOTES) is a file of the repository, in any directory,
#     with or without an extension.
set -euo pipefail
cd "$PGGUARD_SOURCE_DIR"
mapfile -t files < <(git ls-files -co --exclude-standard | grep -v '^tests/lint/references\.sh$')
[ "${#files[@]}" -gt 0 ] || { echo "no files found: wrong source dir?" >&2; exit 1; }
declare -A documents=()
for file in "${files[@]}"; do
  base=${file##*/}
  base=${base%%.*}
  [ -z "$base" ] || documents[$base]=1
done

failures=0
checked=0
for file in "${files[@]}"; do
  [ -f "$file" ] || continue
  if [[ "$file" == *.md ]]; then
    while IFS= read -r target; do
      target=${target%%#*}
      [ -n "$target" ] || continue
      case "$target" in http://* | https://* | mailto:*) continue ;; esac
      checked=$((checked + 1))
      if [ ! -e "$(dirname "$file")/$target" ]; then
        echo "$file: link to '$target', which is not in the repository" >&2
        failures=$((failures + 1))
      fi
    done < <(grep -oE '\]\([^) ]+\)' "$file" | sed -E 's/^\]\((.*)\)$/\1/')
  fi
  while IFS=: read -r line name; do
    checked=$((checked + 1))
    if [ -z "${documents[$name]:-}" ]; then
      echo "$file:$line: cites $name, which is not a file of the repository" >&2
      failures=$((failures + 1))
    fi
  done < <(grep -InoE '\b(README|CHANGELOG|CONTRIBUTING|HACKING|([A-Z][A-Z0-9]*-)*NOTES)\b' \
    "$file" || true)
done
[ "$failures" -eq 0 ] || { echo "references: $failures unresolved" >&2; exit 1; }
echo "references: $checked checked in ${#files[@]} files, all resolve"
