#!/usr/bin/env bash
# The whole test suite from a fresh machine: install dependencies, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
scripts/build.sh
cd build && ctest --output-on-failure --timeout 900 -j "$(nproc)"
