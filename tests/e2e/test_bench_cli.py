"""`glassbox bench` end to end on the default model: the JSON report holds one measurement per
(threads, mode, test) asked for, with the derived figures consistent with it; thread counts
outside the machine are clamped with a warning; lengths whose KV cache, or whose KV cache and
activations together, would not fit in memory fail with one error line before anything is
measured (not the kernel's OOM killer); bad arguments are usage errors.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
import gbtest  # noqa: E402
from gbtest import expect  # noqa: E402

SMALL = ["--prefill", "16", "--prefill", "32", "--decode-ctx", "8", "--decode-tokens", "2",
         "--repeats", "1"]


def error(args, status, *needles):
    p = gbtest.run("bench", *args, check=False)
    lines = p.stderr.strip().split("\n")
    errors = [line for line in lines if line.startswith("glassbox: error: ")]
    ok = (p.returncode == status and len(errors) == 1 and p.stdout == ""
          and all(n in errors[0] for n in needles))
    expect(ok, f"bench {' '.join(args)}: exit {p.returncode}, stdout {p.stdout!r}, "
               f"stderr {p.stderr!r}")


def available_bytes():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def main():
    cores = len(os.sched_getaffinity(0))

    # One result per (threads, mode, test), each with its own figures.
    p = gbtest.run("bench", "-t", "1", "-t", str(cores), "--mode", "none", "--mode", "stats",
                   "--mode", "patterns", "--bandwidth", "--json", *SMALL)
    report = json.loads(p.stdout)
    threads = sorted({1, cores})
    want = {(t, m, k, n) for t in threads for m in ("none", "stats", "patterns")
            for k, n in (("prefill", 16), ("prefill", 32), ("decode", 8))}
    got = [(r["threads"], r["mode"], r["kind"], r["n"]) for r in report["results"]]
    expect(sorted(got) == sorted(want), f"results {got}")
    expect(all(r["tokens_per_s"] > 0 for r in report["results"]), "a speed that is not positive")
    expect(report["arch"] == "llama" and report["n_params"] > 0, f"model fields {report}")
    expect(0 < report["file_bytes"] < report["peak_rss_bytes"],
           f"peak RSS {report['peak_rss_bytes']} against the file's {report['file_bytes']} bytes")
    # Unobserved, measured before the observers filled their buffers: no more than with them.
    expect(report["file_bytes"] < report["peak_rss_bytes_after_none"] <= report["peak_rss_bytes"],
           f"peak RSS without hooks {report['peak_rss_bytes_after_none']}, with them "
           f"{report['peak_rss_bytes']}")
    for t in threads:
        bw = report["bandwidth_gb_per_s"][str(t)] * 1e9
        expect(1e8 < bw < 1e13, f"bandwidth with {t} threads: {bw} bytes/s")
        for r in report["results"]:
            if r["threads"] != t or r["kind"] != "decode":
                continue
            read = report["weight_bytes_per_token"] * r["tokens_per_s"]
            expect(abs(r["weight_bytes_per_s"] - read) <= 1e-9 * read
                   and abs(r["bandwidth_fraction"] - read / bw) <= 1e-9 * read / bw,
                   f"decode figures {r} against {read} bytes/s read and {bw} available")

    # The table: a row per result.
    p = gbtest.run("bench", "-t", "1", *SMALL)
    rows = [line.split() for line in p.stdout.splitlines()]
    tests = [" ".join(r[2:4]) for r in rows if len(r) > 3 and r[0] == "1" and r[1] == "none"]
    expect(tests == ["prefill 16", "prefill 32", "decode @8"], f"table rows {tests}: {p.stdout}")

    # Thread counts outside 1 .. cores: clamped, with a warning naming them.
    for asked, used in ((0, 1), (cores + 7, cores)):
        p = gbtest.run("bench", "-t", str(asked), "--json", *SMALL)
        measured = {r["threads"] for r in json.loads(p.stdout)["results"]}
        expect(measured == {used} and f"--threads {asked} is outside 1..{cores}" in p.stderr
               and f"using {used}" in p.stderr, f"-t {asked}: threads {measured}, {p.stderr!r}")

    # Too long for memory: one error before any measurement. First the KV cache alone; then a
    # length whose KV cache fits (about half of what is available) but not with the
    # activations of its prefill (which, for the demo model, take more per position).
    error(["--prefill", "100000000000"], 2, "KV cache", "memory is available")
    error(["--decode-ctx", "100000000000"], 2, "KV cache", "memory is available")
    c = json.loads(gbtest.run("inspect", "--json").stdout)["config"]
    kv_per_position = c["n_layers"] * 2 * c["n_kv_heads"] * c["d_head"] * 4  # f32 K and V
    activations_per_position = (4 * c["d_model"] + 4 * c["n_heads"] * c["d_head"]
                                + 2 * c["d_mlp"]) * 4
    expect(activations_per_position > kv_per_position, "the demo model's proportions changed")
    n = available_bytes() // (2 * kv_per_position)
    error(["--prefill", str(n), "--decode-ctx", "8"], 2, "memory is available")

    # Bad arguments.
    error(["--repeats", "0"], 2, "--repeats")
    error(["--prefill", "0"], 2, "--prefill")
    error(["--decode-tokens", "0"], 2, "--decode-tokens")
    error(["--mode", "bogus"], 2, "bogus")
    gbtest.finish()


if __name__ == "__main__":
    main()
