#!/usr/bin/env bash
# Installs what glassbox needs to build and test, from Debian's packages and the npm registry.
# Idempotent: packages already present are not fetched again. Run as root (or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git
  libopenblas-dev nlohmann-json3-dev libcli11-dev libcpp-httplib-dev
  libprotobuf-dev protobuf-compiler libpng-dev zlib1g-dev libicu-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsentencepiece-dev
  libjs-chart.js
)
test_packages=(
  python3-torch python3-numpy python3-sentencepiece python3-protobuf python3-pil sentencepiece
  chromium nodejs npm fortunes man-db
)
want=("${packages[@]}")
[ "${1:-}" = "--test" ] && want+=("${test_packages[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
# nodejs/npm may come from elsewhere than Debian; accept any working node and npm.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]}" | sed '/^$/d'))
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--test" ] && [ -f tests/package.json ]; then
  (cd tests && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
