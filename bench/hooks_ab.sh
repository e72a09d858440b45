#!/usr/bin/env bash
# The price of an unobserved hook site: glassbox with hook sites compiled in (no hook requested)
# against the same source built with -DGLASSBOX_HOOKS=OFF, run in alternation (A, B, B, A, ...)
# so that drifts of a shared machine hit both alike; prints the median ratio per test.
# Needs the two builds of bench/run.sh (build-bench/hooks, build-bench/nohooks).
# Usage: bench/hooks_ab.sh MODEL [ROUNDS=12] [THREADS=1]
# With HOOKS_AB_JSON=FILE it also writes the medians there as JSON (bench/run.sh does, for the
# report's "<= 1% slower" target).
set -euo pipefail
if [[ $# -lt 1 || $# -gt 3 ]]; then
  echo "usage: $0 MODEL [ROUNDS] [THREADS]" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
model=$1 rounds=${2:-12} threads=${3:-1}
for v in hooks nohooks; do
  [[ -x build-bench/$v/glassbox ]] || { echo "$0: build-bench/$v/glassbox missing: run bench/run.sh first" >&2; exit 1; }
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Odd rounds run the hooks build first, even rounds second: whatever favours the first (or the
# second) run of a pair then favours each build equally often.
for i in $(seq 1 "$rounds"); do
  order="hooks nohooks"
  ((i % 2)) || order="nohooks hooks"
  for v in $order; do
    build-bench/$v/glassbox bench -m "$model" -t "$threads" --prefill 128 --decode-ctx 128 \
      --repeats 3 --mode none --json 2>/dev/null >"$out/$v.$i.json"
  done
done
/usr/bin/python3 - "$out" "$rounds" "$threads" "${HOOKS_AB_JSON:-}" <<'PY'
import json, statistics, sys
out, n, threads, json_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def speed(v, i, kind):
    with open(f"{out}/{v}.{i}.json") as f:
        return next(r["tokens_per_s"] for r in json.load(f)["results"] if r["kind"] == kind)
medians = {}
for kind in ("prefill", "decode"):
    ratios = [speed("hooks", i, kind) / speed("nohooks", i, kind) for i in range(1, n + 1)]
    medians[kind] = statistics.median(ratios)
    print(f"{kind}: hooks in / compiled out, median {medians[kind]:.4f} "
          f"(rounds {min(ratios):.3f} .. {max(ratios):.3f}, {n} rounds)")
if json_path:
    with open(json_path, "w") as f:
        json.dump({"threads": threads, "rounds": n, "median": medians}, f)
PY
