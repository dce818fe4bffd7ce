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
swift test "${flags[@]}" --skip-build "$@"
