#!/usr/bin/env bash
# Turns the output folder of tools/train_demo_model.py into the files shipped under models/:
#   glassbox-demo.gguf          the model, F16, with its tokenizer (glassbox convert)
#   glassbox-demo.gguf.sha256   its checksum (read by CMake at configure time, checked at load)
#   glassbox-demo.heldout.json  held-out documents, their token ids, model and unigram perplexity
#   glassbox-demo.unigram.npy   training-token counts [V] (the unigram baseline of the tests)
#   glassbox-demo.eval.json     the training script's evaluation: loss curve, head scores, ...
# Usage: tools/package_demo_model.sh TRAIN_OUT [GLASSBOX_BINARY]   (then reconfigure CMake)
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 TRAIN_OUT [GLASSBOX_BINARY]" >&2
  exit 2
fi
src="$1"
glassbox="${2:-build/glassbox}"
cd "$(dirname "$0")/.."
for f in config.json model.safetensors heldout_sample.json unigram_counts.npy eval.json; do
  [ -f "$src/$f" ] || { echo "$0: $src/$f: missing (not a train_demo_model.py output?)" >&2; exit 1; }
done
"$glassbox" convert "$src" -o models/glassbox-demo.gguf --type f16
(cd models && sha256sum glassbox-demo.gguf > glassbox-demo.gguf.sha256)
cp "$src/heldout_sample.json" models/glassbox-demo.heldout.json
cp "$src/unigram_counts.npy" models/glassbox-demo.unigram.npy
cp "$src/eval.json" models/glassbox-demo.eval.json
ls -l models/
