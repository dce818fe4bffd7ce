#!/usr/bin/env bash
# The whole test suite, from a fresh machine: install what is missing, build (release, with
# testing enabled so tests may see internals), run every test. Tests that launch mpirun use
# the rstrain binary built here.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

# mpirun as root (CI runs as root) needs these; harmless otherwise.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Open MPI in containers: no CMA between processes, and keep shared-memory files local.
export OMPI_MCA_btl_vader_single_copy_mechanism=none

flags=(-c release -Xswiftc -enable-testing)
swift build "${flags[@]}" --build-tests
log=$(mktemp)
status=0
swift test "${flags[@]}" --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log" || status=$?
# One plain closing line for CI: XCTest's last summary holds the totals.
summary=$(grep -E "Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -n 1)
total=$(sed -E 's/.*Executed ([0-9]+) tests?, with ([0-9]+) failures?.*/\1/' <<<"$summary")
failed=$(sed -E 's/.*Executed ([0-9]+) tests?, with ([0-9]+) failures?.*/\2/' <<<"$summary")
rm -f "$log"
if [ -z "$summary" ]; then echo "tests: no XCTest summary found"; exit 1; fi
echo "tests: $((total - failed)) passed, $failed failed"
exit "$status"
