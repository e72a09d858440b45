#!/usr/bin/env bash
# The main job on the embedded default model: install, build, run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
build/glassbox --help
