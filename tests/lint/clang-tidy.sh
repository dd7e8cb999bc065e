#!/usr/bin/env bash
# Runs clang-tidy (.clang-tidy: warnings are errors) over the library and programs.
set -euo pipefail
source "$PGGUARD_SOURCE_DIR/tests/lib/require.sh"
require_command clang-tidy
cd "$PGGUARD_SOURCE_DIR"
database="$PGGUARD_BUILD_DIR/compile_commands.json"
[ -f "$database" ] || { echo "missing $database" >&2; exit 1; }
mapfile -t files < <(git ls-files -co --exclude-standard -- 'src/*.cpp')
[ "${#files[@]}" -gt 0 ] || { echo "no C++ files found" >&2; exit 1; }
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy --quiet -p "$PGGUARD_BUILD_DIR"
echo "clang-tidy: ${#files[@]} files clean"
