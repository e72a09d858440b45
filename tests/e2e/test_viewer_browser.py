"""The viewer page in a real browser: Debian's chromium driven by npm playwright-core
(viewer_browser.js), against `glassbox view` servers and a `--html` page — with no -m, i.e. on the
shipped default model, except where another model is the point. What the page draws is checked
against the command line and trace files:
  - the head view draws one line set per selected head, with the weights of the trace's
    hook_pattern (8-bit: within half a step of 1/255; every weight above the threshold drawn);
  - on the hand-built circuit model, the previous-token head's lines go to the previous token and
    the induction head's to the token after the earlier occurrence;
  - the model view has layers x heads cells, and clicking one opens that head;
  - the logit lens's last row at each position is `glassbox run`'s top prediction for the prompt
    up to there;
  - ablating a head shows what `glassbox run --ablate ... --json` reports;
  - the diff panel (the default model against its Q4_0 conversion) shows the first diverging
    layer and per-layer errors of `glassbox diff --json`;
  - editing the prompt and running again updates the panels;
  - the page makes no request outside 127.0.0.1 (the --html page: none at all).
A 1,024-token prompt on a 12-layer x 12-head model is drawn too; its timings are printed.
Screenshots of every panel go to $GB_BUILD_DIR/artifacts/viewer/."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import viewer_env  # noqa: E402
from viewer_env import Server, gbtest  # noqa: E402
from gbtest import expect  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("GB_BUILD_DIR", os.path.join(HERE, "..", "..", "build"))
SHOTS = os.path.join(BUILD, "artifacts", "viewer")


def browse(config):
    with tempfile.TemporaryDirectory() as tmp:
        cfg, out = os.path.join(tmp, "config.json"), os.path.join(tmp, "result.json")
        with open(cfg, "w") as f:
            json.dump(dict(config, shots=SHOTS), f)
        p = subprocess.run(["node", os.path.join(HERE, "viewer_browser.js"), cfg, out],
                           capture_output=True, text=True, timeout=900)
        if not os.path.exists(out):
            raise RuntimeError(f"viewer_browser.js wrote nothing (exit {p.returncode}):\n{p.stderr}")
        with open(out) as f:
            result = json.load(f)
    name = config["scenario"]
    expect("failure" not in result, f"{name}: the browser run failed: {result.get('failure')}")
    expect(not result["outside"], f"{name}: requests outside {config['allowed']}: {result['outside'][:5]}")
    expect(all(u.startswith(config["allowed"]) for u in result["requests"]) and result["requests"],
           f"{name}: requests {result['requests'][:5]}")
    expect(not result["errors"], f"{name}: page errors {result['errors'][:5]}")
    return result


# margs: the model as the command line names it: [] for the default model, ["-m", PATH] otherwise.
def trace_patterns(margs, prompt_args, hooks="blocks.*.attn.hook_pattern"):
    with tempfile.TemporaryDirectory() as out:
        gbtest.run("trace", *margs, *prompt_args, "--hooks", hooks, "-o", out)
        return gbtest.read_trace(out)[1]


def check_head_view(name, view, patterns, layer, heads):
    """Lines against the trace: [q, k, w] with |w - p| <= half an 8-bit step, and every weight
    clearly above the threshold drawn, none clearly below it."""
    if not view:
        return expect(False, f"{name}: no head view")
    expect(view["layer"] == layer and view["heads"] == heads and sorted(map(int, view["lines"])) == heads,
           f"{name}: head view layer {view['layer']} heads {view['heads']}, expected {layer} {heads}")
    p = patterns[f"blocks.{layer}.attn.hook_pattern"][0]  # [heads, n, n]
    n, thr, step = p.shape[1], view["minWeight"], 1 / 255
    expect(view["n"] == n, f"{name}: head view of {view['n']} tokens, the trace has {n}")
    for h in heads:
        lines = np.array(view["lines"][str(h)], dtype=np.float64).reshape(-1, 3)
        q, k, w = lines[:, 0].astype(int), lines[:, 1].astype(int), lines[:, 2]
        ok_pos = bool(np.all(k <= q)) and bool(np.all(q < n))
        expect(ok_pos, f"{name}: head {h} draws a line to a later key")
        if not ok_pos:
            continue
        err = np.abs(w - p[h][q, k]).max() if len(w) else 0.0
        expect(err <= step / 2 + 1e-6, f"{name}: head {h} line weights differ from the trace by {err}")
        drawn = np.zeros((n, n), bool)
        drawn[q, k] = True
        must = np.tril(p[h] >= thr + step)
        must_not = np.tril(p[h] < thr - step)
        expect(not (must & ~drawn).any(), f"{name}: head {h}: {(must & ~drawn).sum()} weights above {thr} not drawn")
        expect(not (must_not & drawn).any(), f"{name}: head {h}: lines drawn below the threshold")
        expect(len(w) > 0, f"{name}: head {h} drew no line")


def top1(margs, ids):
    return json.loads(gbtest.run("run", *margs, "--tokens", ",".join(map(str, ids)), "--json").stdout)["top"][0]["id"]


def check_lens(name, row, margs, ids):
    expect(len(row) == len(ids), f"{name}: lens row of {len(row)} positions for {len(ids)} tokens")
    expect(row and row[-1] == top1(margs, ids), f"{name}: lens last cell {row[-1:]} is not glassbox run's top-1")
    want = [top1(margs, ids[:p + 1]) for p in range(len(ids))]
    expect(row == want, f"{name}: lens output row {row} != glassbox run's top-1 per prefix {want}")


def check_ablation(name, shown, margs, prompt_args, layer, head):
    cli = json.loads(gbtest.run("run", *margs, *prompt_args, "--ablate",
                                f"blocks.{layer}.attn.hook_z[head={head}]", "--json").stdout)
    expect(shown and shown["heads"] == [[layer, head]], f"{name}: ablation of {shown and shown['heads']}")
    if not shown:
        return cli
    expect(shown["top1"] == cli["top"][0]["id"], f"{name}: ablated top-1 {shown['top1']} vs run --ablate {cli['top'][0]}")
    by_id = {t["id"]: t for t in cli["top"]}
    rows_ok = all(t["id"] in by_id and abs(t["prob"] - by_id[t["id"]]["prob"]) < 1e-6 and
                  abs(t["clean_prob"] - by_id[t["id"]]["clean_prob"]) < 1e-6 for t in shown["top"])
    expect(rows_ok and len(shown["top"]) == len(cli["top"]), f"{name}: ablation rows differ from run --ablate --json")
    expect(abs(shown["kl"] - cli["kl_clean_to_intervened"]) < 1e-6, f"{name}: KL {shown['kl']} vs {cli['kl_clean_to_intervened']}")
    return cli


def main():
    for tool in ("node", "/usr/bin/chromium"):
        expect(shutil.which(tool) is not None, f"{tool} is missing: run scripts/setup.sh --test")
    expect(os.path.isdir(os.path.join(HERE, "..", "node_modules", "playwright-core")),
           "npm playwright-core is missing: run scripts/setup.sh --test (npm ci in tests/)")
    expect(os.path.exists(viewer_env.DEFAULT_MODEL), f"{viewer_env.DEFAULT_MODEL} is missing")
    if gbtest.FAILURES:
        return gbtest.finish()
    os.makedirs(SHOTS, exist_ok=True)
    work = tempfile.mkdtemp(prefix="gb_viewer_browser_")
    prompt, prompt2 = "The cat sat on the mat. The cat sat on the", "Once upon a time there was a"
    ids, ids2 = viewer_env.prompt_ids([], prompt), viewer_env.prompt_ids([], prompt2)
    info = json.loads(gbtest.run("inspect", viewer_env.DEFAULT_MODEL, "--json").stdout)["config"]
    n_layers, n_heads = info["n_layers"], info["n_heads"]
    patterns = trace_patterns([], ["-p", prompt])
    timings = {}

    # `glassbox view` with no -m: the shipped default model.
    layer, heads = 1, [0, 2]
    server = Server()
    try:
        r = browse({"scenario": "text", "url": server.url, "allowed": server.url, "prompt": prompt, "prompt2": prompt2,
                    "layer": layer, "heads": heads, "ablate": [1, 2], "thumb": [n_layers - 1, n_heads - 1]})
    finally:
        server.stop()
    timings["default model"] = r["timings"]
    expect(r.get("run", {}).get("tokens") == len(ids), f"tokens shown: {r.get('run')}, tokenizer: {len(ids)}")
    check_head_view("default model", r.get("headView"), patterns, layer, heads)
    mv = r.get("modelView", {})
    expect(mv.get("cells") == n_layers * n_heads and mv.get("dom") == n_layers * n_heads and
           mv.get("layers") == n_layers and mv.get("heads") == n_heads, f"model view cells: {mv}")
    expect(r.get("thumbOpened"), "clicking a model-view cell should open that head")
    check_lens("default model", r.get("lensLastRow", []), [], ids)
    check_ablation("default model", r.get("ablation"), [], ["-p", prompt], 1, 2)
    expect(r.get("run2", {}).get("tokens") == len(ids2) and r["run2"]["runId"] != r["run"]["runId"],
           f"second prompt: {r.get('run2')}")
    check_lens("default model, second prompt", r.get("lensLastRow2", []), [], ids2)
    check_head_view("default model, second prompt", r.get("headView2"), trace_patterns([], ["-p", prompt2]), layer, heads)

    # The default model against its own Q4_0 quantization (glassbox convert).
    quant = os.path.join(work, "q4_0.gguf")
    gbtest.run("convert", viewer_env.DEFAULT_MODEL, "--type", "q4_0", "-o", quant)
    server = Server("-m", viewer_env.DEFAULT_MODEL, "-m", quant)
    try:
        r = browse({"scenario": "diff", "url": server.url, "allowed": server.url, "prompt": prompt})
    finally:
        server.stop()
    timings["diff"] = r["timings"]
    # The hooks the viewer compares (attention patterns unobserved, as in its own pass).
    hooks = "hook_embed,blocks.*.hook_attn_out,blocks.*.hook_mlp_out,blocks.*.hook_resid_post"
    diff = json.loads(gbtest.run("diff", viewer_env.DEFAULT_MODEL, quant, "--tokens", ",".join(map(str, ids)),
                                 "--hooks", hooks, "--json").stdout)
    shown = r.get("diff") or {}
    expect(shown.get("first_layer") == diff["first_layer"],
           f"diff: first layer shown {shown.get('first_layer')}, glassbox diff {diff['first_layer']}")
    cli_rel = {h["name"]: h["rel_error"] for h in diff["hooks"]}
    expect(len(shown.get("layers", [])) == n_layers, f"diff: {len(shown.get('layers', []))} layers shown")
    for row in shown.get("layers", []):
        ref = cli_rel[f"blocks.{row['layer']}.hook_resid_post"]
        expect(abs(row["resid_post"] - ref) <= 1e-9 * max(1, ref), f"diff layer {row['layer']}: {row} vs {ref}")

    # The hand-built circuit: the heads do what they were built to do.
    circuit = os.path.join(work, "circuit")
    viewer_env.circuit_model(circuit)
    seq = [3, 7, 1, 9, 4, 11, 5]
    server = Server("-m", circuit)
    try:
        r = browse({"scenario": "circuit", "url": server.url, "allowed": server.url,
                    "prompt": ", ".join(map(str, seq + seq))})
    finally:
        server.stop()
    timings["circuit"] = r["timings"]
    cp = trace_patterns(["-m", circuit], ["--tokens", ",".join(map(str, seq + seq))])
    check_head_view("circuit L0H2", r.get("prevHead"), cp, 0, [2])
    check_head_view("circuit L1H1", r.get("inductionHead"), cp, 1, [1])

    def strongest(view, h):
        best = {}
        for q, k, w in (view or {"lines": {}})["lines"].get(str(h), []):
            if w > best.get(q, (0, -1))[1]:
                best[q] = (k, w)
        return best
    prev = strongest(r.get("prevHead"), 2)
    expect(all(prev.get(q, (None, 0))[0] == q - 1 and prev[q][1] > 0.5 for q in range(1, 14)),
           f"L0H2 should attend to the previous token: {prev}")
    ind = strongest(r.get("inductionHead"), 1)
    # From q = 8 on (q = 7 splits its attention between keys 0 and 1).
    expect(all(ind.get(q, (None, 0))[0] == q - 6 and ind[q][1] > 0.5 for q in range(8, 14)),
           f"L1H1 should attend to the token after the earlier occurrence: {ind}")
    cli = check_ablation("circuit", r.get("ablation"), ["-m", circuit], ["--tokens", ",".join(map(str, seq + seq))], 1, 1)
    expect(cli["top"][0]["id"] != top1(["-m", circuit], seq + seq), "ablating the induction head should change the prediction")

    # A 1,024-token prompt on a 12-layer x 12-head model.
    big = os.path.join(work, "big")
    viewer_env.random_model(big, "--family", "gpt2", "--layers", "12", "--heads", "12", "--d-model", "192",
                            "--vocab", "1024", "--ctx", "1024")
    long_ids = list(np.random.default_rng(3).integers(0, 1024, 1024))
    server = Server("-m", big)
    try:
        r = browse({"scenario": "large", "url": server.url, "allowed": server.url,
                    "prompt": ", ".join(map(str, long_ids)), "layer": 5, "heads": [0, 11]})
    finally:
        server.stop()
    timings["large"] = dict(r["timings"], **{"page." + k: v for k, v in r.get("pageTimings", {}).items()})
    check_head_view("1,024 tokens", r.get("headView"),
                    trace_patterns(["-m", big], ["--tokens", ",".join(map(str, long_ids))], "blocks.5.attn.hook_pattern"), 5, [0, 11])
    expect((r.get("modelView") or {}).get("cells") == 144, f"1,024 tokens: model view {r.get('modelView')}")

    # The self-contained page: no server, no request but the file itself.
    page = os.path.join(work, "page.html")
    gbtest.run("view", "-p", prompt, "--html", page)
    url = "file://" + page
    last = n_layers - 1
    r = browse({"scenario": "static", "url": url, "allowed": url, "layer": last, "heads": [1, 3], "ablate": [0, 1]})
    expect(set(r["requests"]) == {url}, f"the --html page made requests: {r['requests']}")
    check_head_view("--html", r.get("headView"), patterns, last, [1, 3])
    check_lens("--html", r.get("lensLastRow", []), [], ids)
    check_ablation("--html", r.get("ablation"), [], ["-p", prompt], 0, 1)

    print("viewer timings (ms; wall clock in the browser, including the server's work):")
    for scenario, t in timings.items():
        print(f"  {scenario}: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(t.items())))
    print(f"screenshots: {SHOTS}")
    gbtest.finish()


if __name__ == "__main__":
    main()
