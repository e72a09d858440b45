#!/usr/bin/env bash
# glassbox tokenize end to end: output formats, exit codes and one-line errors, on a small
# byte-level vocabulary written here (the 256 byte characters plus "he", "ll", "hell", "hello").
set -euo pipefail
: "${GLASSBOX:?GLASSBOX must name the glassbox binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
cs = bs[:]
n = 0
for b in range(256):
    if b not in bs:
        bs.append(b); cs.append(256 + n); n += 1
chars = [chr(c) for b, c in sorted(zip(bs, cs))]
vocab = {c: i for i, c in enumerate(chars)}
for t in ["he", "ll", "hell", "hello", "<|endoftext|>"]:
    vocab[t] = len(vocab)
json.dump(vocab, open(f"{sys.argv[1]}/vocab.json", "w"))
open(f"{sys.argv[1]}/merges.txt", "w").write("#version: 0.2\nh e\nl l\nhe ll\nhell o\n")
PY

# Table output: ids and quoted pieces, then a count.
out=$("$GLASSBOX" tokenize -m "$tmp" -p "hello he")
grep -q '^ *259  "hello"$' <<<"$out" || fail "table: $out"
grep -q '^ *32  " "$' <<<"$out" || fail "table: $out"
grep -q '^3 tokens' <<<"$out" || fail "count: $out"

# JSON output; special tokens only with --special.
json=$("$GLASSBOX" tokenize -m "$tmp" -p "hello<|endoftext|>" --json --special)
[ "$json" = '{"ids":[259,260],"model":"gpt2","pieces":["hello","<|endoftext|>"],"vocab_size":261}' ] ||
  fail "json: $json"
plain=$("$GLASSBOX" tokenize -m "$tmp" -p "<|endoftext|>" --json)
grep -q "\"ids\":\[60,124,101," <<<"$plain" || fail "special token parsed without --special: $plain"

# Empty prompt: no tokens; with --bos, the bos token.
[ "$("$GLASSBOX" tokenize -m "$tmp" -p "" | tail -1)" = "0 tokens (gpt2 tokenizer, 261 in vocabulary)" ] ||
  fail "empty prompt"
bos=$("$GLASSBOX" tokenize -m "$tmp" -p "" --bos --json)
grep -q '"ids":\[260\]' <<<"$bos" || fail "--bos: $bos"

# Invalid UTF-8 from a file round-trips through byte tokens.
printf 'he\xff\xfe!' > "$tmp/bad.txt"
ids=$("$GLASSBOX" tokenize -m "$tmp" -f "$tmp/bad.txt" --json | /usr/bin/python3 -c 'import json,sys; print(",".join(map(str, json.load(sys.stdin)["ids"])))')
"$GLASSBOX" tokenize -m "$tmp" --decode "$ids" | head -c 5 | cmp - <(printf 'he\xff\xfe!') ||
  fail "invalid UTF-8 did not round-trip"

# Errors: one line, exit 1 for bad data, 2 for bad usage.
expect_error() {
  local status=$1 pattern=$2; shift 2
  set +e
  err=$("$GLASSBOX" "$@" 2>&1 >/dev/null)
  got=$?
  set -e
  [ "$got" = "$status" ] || fail "$*: exit $got, want $status ($err)"
  [ "$(echo "$err" | wc -l)" = 1 ] || fail "$*: more than one line: $err"
  grep -q "^glassbox: error: .*$pattern" <<<"$err" || fail "$*: '$err' lacks '$pattern'"
}
expect_error 1 "no such file or folder" tokenize -m "$tmp/missing.gguf" -p hi
expect_error 1 "no tokenizer.json, nor vocab.json and merges.txt" tokenize -m "$tmp/.." -p hi
expect_error 2 "give exactly one of" tokenize -m "$tmp" -p hi -f "$tmp/bad.txt"
expect_error 2 "give exactly one of" tokenize -m "$tmp"
expect_error 1 "token id 261 is outside the vocabulary (261 tokens)" tokenize -m "$tmp" --decode 1,261
expect_error 2 "'x1' is not a token id" tokenize -m "$tmp" --decode 1,x1
echo 'not json' > "$tmp/lines.jsonl"
expect_error 1 "lines.jsonl:1: expected a JSON object" tokenize -m "$tmp" --jsonl "$tmp/lines.jsonl"
printf 'x' > "$tmp/not.gguf"
expect_error 1 "not.gguf" tokenize -m "$tmp/not.gguf" -p hi
echo '#version: 0.2
h e
q zz' > "$tmp/merges.txt"
expect_error 1 "merges.txt: merge 1 'q zz': token 'zz' is not in the vocabulary" tokenize -m "$tmp" -p hi
echo OK
