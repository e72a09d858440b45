// llama.cpp (through the npm package node-llama-cpp and its prebuilt CPU binary) on a GGUF file:
// prompt-processing tokens/s at given lengths and generation tokens/s after given contexts, the
// measurements glassbox bench makes, printed as JSON.
//
//   node bench/llama_cpp_peer.mjs MODEL.gguf --threads 2 --prefill 128,512 --decode-ctx 128,1024 \
//       --decode-tokens 32 --repeats 3
//
// Run with NODE_PATH pointing at the node_modules that holds node-llama-cpp (bench/run.sh does).
// Token ids are random (the same generator for every run); decoding samples greedily, so every
// step computes the logits of its token, as glassbox's decode does.
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import path from "node:path";

function parseArgs(argv) {
  const a = { threads: 1, prefill: [128, 512], decodeCtx: [128, 1024], decodeTokens: 32, repeats: 3 };
  const list = (s) => s.split(",").map(Number);
  for (let i = 1; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === "--threads") a.threads = Number(v);
    else if (k === "--prefill") a.prefill = list(v);
    else if (k === "--decode-ctx") a.decodeCtx = list(v);
    else if (k === "--decode-tokens") a.decodeTokens = Number(v);
    else if (k === "--repeats") a.repeats = Number(v);
    else throw new Error(`unknown option ${k}`);
  }
  a.model = argv[0];
  return a;
}

// A fixed pseudo-random sequence of token ids in [3, vocab) (ids 0-2 are <unk>, <s>, </s>).
function randomTokens(n, vocab, seed) {
  let x = seed >>> 0;
  const out = [];
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out.push(3 + (x % (vocab - 3)));
  }
  return out;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const require = createRequire(path.join(process.env.NODE_PATH || ".", "noop.js"));
  const { getLlama, LlamaLogLevel } = await import(require.resolve("node-llama-cpp"));
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: a.model, gpuLayers: 0 });
  const vocab = model.tokens.size ?? model.fileInfo.metadata.llama?.vocab_size ?? 32000;
  const longest = Math.max(...a.prefill, ...a.decodeCtx.map((c) => c + a.decodeTokens));
  const context = await model.createContext({
    contextSize: longest + 8,
    batchSize: Math.max(...a.prefill, ...a.decodeCtx),
    threads: a.threads,
    sequences: 1,
  });
  const seq = context.getSequence();
  const results = [];

  for (const n of a.prefill) {
    const ids = randomTokens(n, vocab, 1);
    let best = 0;
    for (let r = 0; r < a.repeats; r++) {
      await seq.clearHistory();
      const t0 = performance.now();
      await seq.evaluateWithoutGeneratingNewTokens(ids);
      best = Math.max(best, n / ((performance.now() - t0) / 1000));
    }
    results.push({ kind: "prefill", n, threads: a.threads, tokens_per_s: best });
  }
  for (const ctx of a.decodeCtx) {
    const ids = randomTokens(ctx + 1, vocab, 2);
    let best = 0;
    await seq.clearHistory();
    await seq.evaluateWithoutGeneratingNewTokens(ids.slice(0, ctx));  // once, untimed
    for (let r = 0; r < a.repeats; r++) {
      // Back to the context: forget what the previous repeat generated.
      await seq.eraseContextTokenRanges([{ start: ctx, end: seq.nextTokenIndex }]);
      let steps = 0;
      const t0 = performance.now();
      // Each token the generator yields is one decode step (logits of the newest token).
      let next = [ids[ctx]];
      while (steps < a.decodeTokens) {
        let last = null;
        for await (const token of seq.evaluate(next, { temperature: 0 })) {
          last = token;
          if (++steps >= a.decodeTokens) break;
        }
        next = [last ?? ids[ctx]];
      }
      best = Math.max(best, steps / ((performance.now() - t0) / 1000));
    }
    results.push({ kind: "decode", n: ctx, threads: a.threads, tokens_per_s: best });
  }
  await context.dispose();
  await model.dispose();
  console.log(JSON.stringify({ peer: "llama.cpp", model: a.model, results }));
}

main().catch((e) => {
  console.error(`llama_cpp_peer: ${e.message}`);
  process.exit(1);
});
