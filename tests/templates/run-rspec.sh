#!/usr/bin/env bash
# Runs the RSpec template tests of every job under spec/.
set -euo pipefail
source "$PGGUARD_SOURCE_DIR/tests/lib/require.sh"
require_command rspec ruby
cd "$PGGUARD_SOURCE_DIR"
exec rspec --format progress spec
