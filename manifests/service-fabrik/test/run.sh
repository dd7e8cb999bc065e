#!/usr/bin/env bash
# CTest entry of the Service-Fabrik template test (label templates): runs `npm test` in
# manifests/service-fabrik with the modules scripts/setup installed. Skips (77) outside CI when
# Node.js, Ruby or the modules are missing; fails under CI=true (tests/lib/require.sh).
set -euo pipefail
source "$PGGUARD_SOURCE_DIR/tests/lib/require.sh"
require_command node npm ruby
dir="$PGGUARD_SOURCE_DIR/manifests/service-fabrik"
[ -d "$dir/node_modules/lodash" ] && [ -d "$dir/node_modules/js-yaml" ] ||
  missing_prerequisite "Node modules of manifests/service-fabrik (run scripts/setup)"
cd "$dir"
exec npm test
