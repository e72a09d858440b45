#!/usr/bin/env bash
# The main job on the embedded default model: install, build, then look inside the model.
# Writes its files to quickstart/ (a trace of NumPy arrays).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
gb=build/glassbox
prompt="The best way to get rid of a bug is to"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

say glassbox run -p "\"$prompt\"" -k 5
$gb run -p "$prompt" -k 5
say glassbox lens -p "\"$prompt\"" --pos -1
$gb lens -p "$prompt" --pos -1
say glassbox attribute -p "\"$prompt\"" --top 8
$gb attribute -p "$prompt" --top 8
say glassbox heads --top 3
$gb heads --top 3
say glassbox trace -p "\"$prompt\"" --hooks "'blocks.*.attn.hook_pattern,blocks.*.mlp.hook_post'" -o quickstart/trace
$gb trace -p "$prompt" --hooks 'blocks.*.attn.hook_pattern,blocks.*.mlp.hook_post' -o quickstart/trace
say glassbox generate -p "\"$prompt\"" -n 24
$gb generate -p "$prompt" -n 24
say glassbox view -p "\"$prompt\"" --html quickstart/view.html
$gb view -p "$prompt" --html quickstart/view.html
echo "Open quickstart/view.html in a browser, or run: build/glassbox view"
