"""`glassbox view` (no -m: the shipped default model) as an HTTP server, driven with plain HTTP:
the API's replies against the CLI (tokens, next-token distribution, ablation) and a trace of the
attention patterns; the memory budget path (layers recomputed on demand give the same bytes);
concurrent clients; the listening address (loopback only unless --host); and bad input: unknown
routes, paths that look like files, wrong methods, oversized bodies, prompts longer than the
context, malformed JSON and parameters, foreign Host headers, clients that go away mid-request.
Every error is a JSON {"error"} with a 4xx status, and the server keeps serving. Also the command
line's own errors and the --html file (complete or absent)."""
import http.client
import json
import os
import socket
import sys
import tempfile
import threading

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import viewer_env  # noqa: E402
from viewer_env import Server, gbtest  # noqa: E402
from gbtest import expect  # noqa: E402


def request(port, method, path, body=None, headers=None, raw=False):
    """(status, headers, JSON or bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    h = {"Content-Type": "application/json"} if body is not None else {}
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    if raw or r.getheader("Content-Type", "").startswith("application/octet-stream"):
        return r.status, r, data
    try:
        return r.status, r, json.loads(data)
    except ValueError:
        return r.status, r, data


def post_run(port, payload):
    return request(port, "POST", "/api/run", json.dumps(payload))


def expect_error(port, method, path, status, needle, body=None, headers=None):
    got, r, data = request(port, method, path, body, headers)
    ok = (got == status and isinstance(data, dict) and needle in data.get("error", "")
          and r.getheader("Content-Type", "").startswith("application/json"))
    expect(ok, f"{method} {path}: expected {status} with '{needle}', got {got} {data!r:.300}")


def raw_exchange(port, payload, read=True):
    """Sends bytes on a fresh socket; returns what came back (or b'' when not reading)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(payload)
    out = b""
    if read:  # up to the end of the reply's headers
        try:
            while b"\r\n\r\n" not in out and (chunk := s.recv(65536)):
                out += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    s.close()
    return out


def listening_addresses(port):
    """The local IPv4 addresses with a socket listening on `port` (from /proc/net/tcp)."""
    out = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.split(":")
            if state == "0A" and int(p, 16) == port:  # 0A: LISTEN
                out.add(socket.inet_ntoa(bytes.fromhex(addr)[::-1]))
    return out


def check_replies(port, info, prompt):
    """The run's tokens and distribution, an ablation, and attention against the CLI (which, given
    no -m either, runs the same default model)."""
    status, _, run = post_run(port, {"text": prompt})
    expect(status == 200, f"run: {status} {run!r:.300}")
    cli = json.loads(gbtest.run("run", "-p", prompt, "--json").stdout)
    ids = cli["tokens"]
    expect(run["tokens"] == ids, f"run tokens {run['tokens']} != glassbox run's {ids}")
    # The text's tokens (after any BOS the model's rule adds) and their pieces.
    tok = json.loads(gbtest.run("tokenize", "-p", prompt, "--json", "--no-bos").stdout)
    text_ids = ids[len(ids) - len(tok["ids"]):]
    labels = [run["labels"][str(i)] for i in text_ids]
    expect(text_ids == tok["ids"] and labels == tok["pieces"],
           f"tokens {text_ids} {labels} != the tokenizer's {tok['ids']} {tok['pieces']}")
    for mine, ref in zip(run["top"], cli["top"]):
        expect(abs(mine["prob"] - ref["prob"]) < 1e-6, f"top: {mine} vs run --json {ref}")
    expect(run["top"][0]["id"] == cli["top"][0]["id"], "top-1 differs from glassbox run")

    status, _, ab = request(port, "GET", f"/api/ablate?run={run['run']}&heads=1.2")
    cli = json.loads(gbtest.run("run", "-p", prompt, "--ablate", "blocks.1.attn.hook_z[head=2]",
                                "--json").stdout)
    expect(status == 200 and ab["top"][0]["id"] == cli["top"][0]["id"], f"ablate top-1: {ab!r:.200}")
    by_id = {t["id"]: t for t in cli["top"]}
    for t in ab["top"]:
        ref = by_id.get(t["id"])
        expect(ref is not None and abs(t["prob"] - ref["prob"]) < 1e-6 and
               abs(t["clean_prob"] - ref["clean_prob"]) < 1e-6, f"ablate row {t} vs {ref}")
    expect(abs(ab["kl_clean_to_intervened"] - cli["kl_clean_to_intervened"]) < 1e-6, "ablation KL differs")

    # Attention bytes against a trace of the patterns: round(p * 255), lower triangle.
    with tempfile.TemporaryDirectory() as out:
        gbtest.run("trace", "-p", prompt, "--hooks", "blocks.*.attn.hook_pattern", "-o", out)
        _, arrays = gbtest.read_trace(out)
    n = len(ids)
    for layer in range(info["n_layers"]):
        status, _, data = request(port, "GET", f"/api/attention?run={run['run']}&layer={layer}")
        p = arrays[f"blocks.{layer}.attn.hook_pattern"][0]  # [heads, n, n]
        got = np.frombuffer(data, np.uint8)
        tri = np.concatenate([p[h][q, :q + 1] for h in range(p.shape[0]) for q in range(n)])
        expect(got.shape == tri.shape and np.abs(got / 255.0 - tri).max() <= 0.5 / 255 + 1e-6,
               f"layer {layer}: attention bytes do not match the trace")
    return run


def bad_requests(port, run_id, info):
    n_ctx, n_layers, n_heads, d_vocab = info["n_ctx"], info["n_layers"], info["n_heads"], info["d_vocab"]
    context = f"context is {n_ctx} tokens"
    expect_error(port, "GET", "/api/nothing", 404, "no such route")
    expect_error(port, "GET", "/etc/passwd", 404, "no such route")
    expect_error(port, "GET", "/../../../etc/passwd", 404, "no such route")
    expect_error(port, "GET", "/api/../../etc/passwd", 404, "no such route")
    expect_error(port, "GET", "/index.html", 404, "no such route")
    expect_error(port, "POST", "/api/info", 405, "use GET", body="{}")
    expect_error(port, "GET", "/api/run", 405, "use POST")
    expect_error(port, "POST", "/api/run", 413, "", body=json.dumps({"text": "x" * 200_000}))
    expect_error(port, "POST", "/api/run", 413, context, body=json.dumps({"tokens": [1] * (n_ctx + 1)}))
    # Each word is at least one token.
    expect_error(port, "POST", "/api/run", 413, context, body=json.dumps({"text": "ab " * (n_ctx + 1)}))
    expect_error(port, "POST", "/api/run", 400, "not JSON", body='{"text": "a"')
    expect_error(port, "POST", "/api/run", 400, "JSON object", body='["a"]')
    expect_error(port, "POST", "/api/run", 400, "unknown field 'prompt'", body='{"prompt": "a"}')
    expect_error(port, "POST", "/api/run", 400, "one of them", body='{}')
    expect_error(port, "POST", "/api/run", 400, "the prompt is empty", body='{"text": ""}')
    expect_error(port, "POST", "/api/run", 400, "vocabulary", body=json.dumps({"tokens": [1, d_vocab]}))
    expect_error(port, "POST", "/api/run", 400, "vocabulary", body='{"tokens": [1, -2]}')
    expect_error(port, "POST", "/api/run", 400, "vocabulary", body='{"tokens": [1.5]}')
    expect_error(port, "POST", "/api/run", 415, "JSON", body='{"text": "a"}', headers={"Content-Type": "text/plain"})
    expect_error(port, "GET", f"/api/attention?run={run_id}&layer={n_layers}", 400, f"out of range (0..{n_layers - 1})")
    expect_error(port, "GET", f"/api/attention?run={run_id}&layer=x", 400, "not an integer")
    expect_error(port, "GET", f"/api/attention?run={run_id}", 400, "missing parameter 'layer'")
    expect_error(port, "GET", f"/api/attention?run={run_id}&layer=1&layer=2", 400, "more than once")
    expect_error(port, "GET", f"/api/attention?run={run_id}&layer=1&path=/etc", 400, "unknown parameter 'path'")
    expect_error(port, "GET", "/api/attention?run=99999&layer=1", 404, "not held")
    expect_error(port, "GET", f"/api/ablate?run={run_id}&heads=1.{n_heads}", 400, "LAYER.HEAD")
    expect_error(port, "GET", f"/api/ablate?run={run_id}&heads=1.2x", 400, "LAYER.HEAD")
    expect_error(port, "GET", f"/api/lens?run={run_id}&block=7", 400, "out of range")
    expect_error(port, "GET", f"/api/diff?run={run_id}", 404, "-m A -m B")
    expect_error(port, "GET", "/api/info", 403, "not this server's address", headers={"Host": "evil.example:80"})
    long_uri = "/api/info?" + "a" * 20000
    status, _, _ = request(port, "GET", long_uri)
    expect(400 <= status < 500, f"a 20 kB URI: status {status}")


def rude_clients(port):
    """Clients that send half a request, or go away before the reply."""
    raw_exchange(port, b"POST /api/run HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       b"Content-Length: 1000\r\n\r\n{\"text\": ", read=False)
    raw_exchange(port, b"GET /api/info HTTP/1.1\r\nHost: 127.0", read=False)
    body = json.dumps({"tokens": list(range(64))}).encode()
    for _ in range(3):  # a long run whose client has gone when the reply is written
        raw_exchange(port, b"POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                           b"Content-Length: %d\r\n\r\n" % (port, len(body)) + body, read=False)
    reply = raw_exchange(port, b"GARBAGE\r\n\r\n")
    expect(reply.startswith(b"HTTP/1.1 4"), f"a garbage request line: {reply[:80]!r}")


def concurrent_clients(port, n_heads, clients):
    """CLIENTS clients run prompts of different lengths and read their own run's attention. The
    server must hold at least CLIENTS runs: with fewer, the others' runs may push a client's run
    out between its two requests (a 404, as the server says)."""
    results = [None] * clients

    def client(i):
        toks = list(range(1, 6 + 3 * i))
        status, _, run = post_run(port, {"tokens": toks})
        status2, _, att = request(port, "GET", f"/api/attention?run={run['run']}&layer=0")
        n = len(toks)
        results[i] = status == 200 and status2 == 200 and run["tokens"] == toks and len(att) == n_heads * n * (n + 1) // 2

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expect(all(results), f"concurrent clients: {results}")


def main():
    expect(os.path.exists(viewer_env.DEFAULT_MODEL), f"{viewer_env.DEFAULT_MODEL} is missing")
    work = tempfile.mkdtemp(prefix="gb_viewer_server_")
    prompt = "The cat sat on the mat. The cat sat on the"

    kept = 8
    server = Server("--keep-runs", kept)
    try:
        status, r, page = request(server.port, "GET", "/", raw=True)
        expect(status == 200 and r.getheader("Content-Type").startswith("text/html"), f"GET /: {status}")
        expect(b"connect-src 'self'" in page and b"<script src" not in page and b"<link rel=\"stylesheet\"" not in page,
               "the page must inline its assets and allow requests only to its own server")
        got = listening_addresses(server.port)
        expect(got == {"127.0.0.1"}, f"glassbox view listens on {got}, not on loopback only")
        status, _, info = request(server.port, "GET", "/api/info")
        expect(status == 200 and info["models"][0]["tokenizer"], f"info {info}")
        shipped = json.loads(gbtest.run("inspect", viewer_env.DEFAULT_MODEL, "--json").stdout)
        model = info["models"][0]
        expect(model["n_layers"] == shipped["config"]["n_layers"] and model["n_heads"] == shipped["config"]["n_heads"],
               f"glassbox view without -m shows {model}, not the default model {shipped['config']}")

        run = check_replies(server.port, model, prompt)
        bad_requests(server.port, run["run"], model)
        rude_clients(server.port)
        concurrent_clients(server.port, model["n_heads"], kept)
        # Exactly the latest `kept` runs are held: the oldest of them answers, the run before it not.
        ids = [post_run(server.port, {"tokens": [1, 2, 3]})[2]["run"] for _ in range(kept)]
        status, _, _ = request(server.port, "GET", f"/api/thumbs?run={ids[0]}")
        expect(status == 200, f"run {ids[0]}, the oldest of the {kept} held, answered {status}")
        expect_error(server.port, "GET", f"/api/thumbs?run={run['run']}", 404, "run the prompt again")
        status, _, _ = request(server.port, "GET", "/api/info")
        expect(status == 200 and server.alive(), "the server stopped serving after bad requests")
    finally:
        server.stop()

    # With no memory for layers, each is computed when asked for: the same bytes.
    small = Server("--cache-mb", "0")
    full = Server()
    try:
        ids = {}
        for s in (small, full):
            ids[s] = post_run(s.port, {"text": prompt})[2]["run"]
        last = model["n_layers"] - 1
        for layer in (last, 0, 1, last):
            for what in ("attention", "neuron_map", "neurons"):
                a = request(small.port, "GET", f"/api/{what}?run={ids[small]}&layer={layer}")
                b = request(full.port, "GET", f"/api/{what}?run={ids[full]}&layer={layer}")
                expect(a[0] == 200 and a[2] == b[2], f"--cache-mb 0: {what} of layer {layer} differs")
    finally:
        small.stop()
        full.stop()

    # The command line.
    def cli_error(args, status, needle):
        p = gbtest.run("view", *args, check=False)
        expect(p.returncode == status and needle in p.stderr and "glassbox: error: " in p.stderr,
               f"view {args}: exit {p.returncode}, {p.stderr!r}")
    default = viewer_env.DEFAULT_MODEL
    cli_error(["--port", "70000"], 2, "--port")
    cli_error(["--keep-runs", "0"], 2, "--keep-runs")
    cli_error(["--html", os.path.join(work, "x.html")], 2, "needs a prompt")
    cli_error(["--html", os.path.join(work, "x.html"), "-p", "a", "--port", "1"], 2, "--html")
    cli_error(["-p", "ab " * (model["n_ctx"] + 1)], 2, "context")
    cli_error(["-m", default, "-m", default, "-m", default], 2, "two")
    cli_error(["-m", os.path.join(work, "missing")], 1, "missing")
    other = os.path.join(work, "other")
    viewer_env.random_model(other, "--family", model["family"], "--layers", str(model["n_layers"] + 1),
                            "--vocab", str(model["d_vocab"]))
    cli_error(["-m", default, "-m", other], 2, "number of layers")
    # --host: the address asked for (here every address), and the Host check is off.
    exposed = Server("--host", "0.0.0.0")
    try:
        got = listening_addresses(exposed.port)
        expect(got == {"0.0.0.0"}, f"glassbox view --host 0.0.0.0 listens on {got}")
        status, _, _ = request(exposed.port, "GET", "/api/info", headers={"Host": f"example.com:{exposed.port}"})
        expect(status == 200, f"--host 0.0.0.0: a request naming another host got {status}")
    finally:
        exposed.stop()
    busy = Server()
    try:
        cli_error(["--port", str(busy.port)], 1, "cannot listen")
    finally:
        busy.stop()
    blocker = os.path.join(work, "file")
    open(blocker, "w").close()
    cli_error(["-p", prompt, "--html", os.path.join(blocker, "x.html")], 1, "cannot create")
    # The page is written whole, then renamed onto a directory: that fails, and nothing is left.
    folder = os.path.join(work, "folder")
    os.mkdir(folder)
    cli_error(["-p", prompt, "--html", folder], 1, "folder")
    left = [f for f in os.listdir(work) if f.startswith("folder")]
    expect(left == ["folder"] and not os.listdir(folder), f"a failed --html left {left}")

    out = os.path.join(work, "page.html")
    gbtest.run("view", "-p", prompt, "--html", out)
    page = open(out, encoding="utf-8").read()
    last = model["n_layers"] - 1
    expect("connect-src 'none'" in page and f'"attention?layer={last}"' in page and
           f'"ablate?heads={last}.{model["n_heads"] - 1}"' in page,
           "the --html page should hold every layer's attention and each head's ablation, and allow no requests")
    expect(sorted(f for f in os.listdir(work) if f.startswith("page")) == ["page.html"], "--html left a temporary file")
    gbtest.finish()


if __name__ == "__main__":
    main()
