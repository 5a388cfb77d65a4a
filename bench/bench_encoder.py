"""The speech encoder alone: seconds per 10 s chunk by batch size and threads, with the app's
allocator setting and with glibc's own, and whether the states depend on the batch.

    .venv/bin/python bench/bench_encoder.py [--chunks 48] [--repeats 3] [--no-record]

Each setting runs in a fresh process (the allocator setting is process-wide): the shipped
bundle's encoder (``SpeechEncoder``, int8), chunk inputs from the log-mel of RAVDESS clips of
actors 01-20 (``encoder.log_mel``, ``chunk_input``: one clip per chunk, padded to 10 s as in
the app), one uncounted pass, then ``--repeats`` passes over every chunk; the median pass is
reported. The states of every batch size are compared with those of batches of 8 (the size
used before, and the one training's cache was filled with).
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.record import write_section  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "ravdess-speech-16k"
BATCHES = (1, 2, 4, 8, 16)
THREADS = (1, 2)

CHILD = r"""
import json, os, statistics, sys, time
import numpy as np
sys.path.insert(0, {repo!r})
import ser_engine.encoder as E
if not {tuned}:
    E.keep_large_buffers = lambda: False
from ser_engine.audio import load_audio
from ser_engine.bundle import load_bundle

bundle = load_bundle({repo!r} + "/resources/model")
enc = E.SpeechEncoder(bundle.encoder_spec, threads={threads})
bank = getattr(bundle, "whisper_bank", None)
bank = E.whisper_mel_bank() if bank is None else bank
mels = []
for p in {paths!r}:
    y = load_audio(p)
    mels.append(E.log_mel(y, s0=0, lo=0, hi=len(y) // E.HOP, bank=bank)[:E.CHUNK_FRAMES])
x = np.stack([E.chunk_input(m) for m in mels])
out = {{}}
for b in {batches!r}:
    E.BATCH = b
    enc.encode(x)
    times = []
    for _ in range({repeats}):
        t = time.perf_counter()
        states = enc.encode(x)
        times.append((time.perf_counter() - t) / len(x))
    np.save({tmp!r} + f"/states-{{b}}.npy", states)
    out[b] = statistics.median(times)
print("JSON " + json.dumps(out))
"""


def clips(n):
    files = sorted(p for a in range(1, 21) for p in (DATA / f"Actor_{a:02d}").glob("*.flac"))
    step = len(files) / n
    return [str(files[int(i * step)]) for i in range(n)]


def run(paths, threads, tuned, repeats, tmp):
    code = CHILD.format(repo=str(REPO), tuned=tuned, threads=threads, paths=paths, batches=BATCHES,
                        repeats=repeats, tmp=str(tmp))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("JSON "))
    return {int(k): v for k, v in json.loads(line[5:]).items()}


def main():
    import tempfile

    import numpy as np

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chunks", type=int, default=48)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    paths = clips(args.chunks)
    rows, diffs = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for threads in THREADS:
            for tuned in (False, True):
                per = run(paths, threads, tuned, args.repeats, tmp)
                ref = np.load(Path(tmp) / "states-8.npy")
                for b in BATCHES:
                    d = float(np.abs(np.load(Path(tmp) / f"states-{b}.npy") - ref).max())
                    diffs[b] = max(diffs.get(b, 0.0), d)
                rows.append((threads, tuned, per))
                print(threads, tuned, {b: round(v * 1000, 1) for b, v in per.items()}, flush=True)
    head = "| Threads | Allocator | " + " | ".join(f"batch {b}" for b in BATCHES) + " |"
    lines = [
        f"{args.chunks} chunks of 10 s (one RAVDESS clip of actors 01-20 each, padded as the app pads it), "
        f"each setting in a fresh process, the median of {args.repeats} passes after one uncounted; "
        "milliseconds per chunk. Allocator: glibc's own thresholds, or the app's "
        "(`ser_engine.runtime.keep_large_buffers`, set when the encoder loads).",
        "",
        head,
        "|" + "---|" * (len(BATCHES) + 2),
    ]
    for threads, tuned, per in rows:
        best = min(per.values())
        cells = [f"**{per[b] * 1000:.1f}**" if per[b] == best else f"{per[b] * 1000:.1f}" for b in BATCHES]
        lines.append(f"| {threads} | {'app' if tuned else 'glibc'} | " + " | ".join(cells) + " |")
    same = all(d == 0.0 for d in diffs.values())
    lines += ["", "States against batches of 8, largest difference over all settings: "
              + ", ".join(f"batch {b} {diffs[b]:.1e}" for b in BATCHES)
              + (" — **identical**: the batch size does not change a state, so the feature cache stays valid."
                 if same else ".")]
    body = "\n".join(lines)
    print(body)
    if not args.no_record:
        write_section("bench_encoder", "The speech encoder: batch size, threads and the allocator", body,
                      "bench/bench_encoder.py")


if __name__ == "__main__":
    main()
