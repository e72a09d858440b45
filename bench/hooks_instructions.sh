#!/usr/bin/env bash
# The price of an unobserved hook site, counted instead of timed: the instructions glassbox
# executes inside its forward passes with hook sites compiled in (no hook requested) and with
# -DGLASSBOX_HOOKS=OFF, under valgrind's callgrind. The count does not drift with the machine's
# load as wall time does (bench/hooks_ab.sh), so it tells what the sites cost apart from where
# the compiler happened to place the kernels' loops. Under valgrind the CPU has no AVX-512: the
# AVX2 kernels run, but the hook sites are the same code on every path.
# Needs the two builds of bench/run.sh (build-bench/hooks, build-bench/nohooks) and valgrind.
# Usage: bench/hooks_instructions.sh MODEL
# With HOOKS_INSTRUCTIONS_JSON=FILE it also writes the counts there as JSON (bench/run.sh does).
set -euo pipefail
if [[ $# -ne 1 ]]; then
  echo "usage: $0 MODEL" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
model=$1
command -v valgrind >/dev/null || { echo "$0: valgrind is not installed" >&2; exit 1; }
for v in hooks nohooks; do
  [[ -x build-bench/$v/glassbox ]] || { echo "$0: build-bench/$v/glassbox missing: run bench/run.sh first" >&2; exit 1; }
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# One thread: the passes run on the calling thread, where the toggle counts them. Prefill 8 and
# decoding 8 tokens after 8: about 1.2 billion instructions per build for llama100m, 45 s each.
for v in hooks nohooks; do
  valgrind --tool=callgrind --toggle-collect='*::forward(gb::TokenBatch const&*' \
    --callgrind-out-file="$out/$v.callgrind" build-bench/$v/glassbox bench -m "$model" -t 1 \
    --prefill 8 --decode-ctx 8 --decode-tokens 8 --repeats 1 --mode none >/dev/null 2>"$out/$v.log" ||
    { echo "$0: $v build failed under valgrind: $(grep -v '^==' "$out/$v.log" | tail -1)" >&2; exit 1; }
done
/usr/bin/python3 - "$out" "${HOOKS_INSTRUCTIONS_JSON:-}" <<'PY'
import json, re, sys
out, json_path = sys.argv[1], sys.argv[2]
def collected(v):
    with open(f"{out}/{v}.log") as f:
        counts = [int(m.group(1).replace(",", "")) for m in re.finditer(r"Collected : ([\d,]+)", f.read())]
    if not counts or counts[0] == 0:
        sys.exit(f"hooks_instructions: no instructions counted inside forward passes ({v} build)")
    return counts[0]
n = {v: collected(v) for v in ("hooks", "nohooks")}
ratio = n["hooks"] / n["nohooks"]
print(f"instructions in forward passes: hooks in {n['hooks']:,}, compiled out {n['nohooks']:,}: "
      f"{(ratio - 1) * 100:+.4f}%")
if json_path:
    with open(json_path, "w") as f:
        json.dump({"hooks": n["hooks"], "nohooks": n["nohooks"], "ratio": ratio}, f)
PY
