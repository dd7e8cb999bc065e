#!/usr/bin/env bash
# Fails when any C++ file of the project differs from what .clang-format produces.
set -euo pipefail
source "$PGGUARD_SOURCE_DIR/tests/lib/require.sh"
require_command clang-format
cd "$PGGUARD_SOURCE_DIR"
mapfile -t files < <(git ls-files -co --exclude-standard -- 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp')
[ "${#files[@]}" -gt 0 ] || { echo "no C++ files found: wrong source dir?" >&2; exit 1; }
clang-format --dry-run -Werror "${files[@]}"
echo "clang-format: ${#files[@]} files clean"
