"""Inference costs of the shipped model on this machine.

    python bench/bench_inference.py

Measures: a cold `ser predict` process on the 18 original 48 kHz RAVDESS files; inside one
process, importing and loading the model, labelling a 4 s file (first and warm), and
labelling a 10-minute recording (RAVDESS clips end to end), as real-time factors.
Writes the figures to BENCHMARKS.md.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.record import write_section  # noqa: E402

DATA = REPO.parent / "shared" / "data"


def cold_cli(paths):
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "ser_engine.cli", "predict", *map(str, paths), "--json"],
                          capture_output=True, text=True, cwd=REPO)
    seconds = time.perf_counter() - t0
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    return seconds, rows, proc.returncode


def main():
    originals = sorted((DATA / "ravdess-original-48k").rglob("*.wav"))
    cli_seconds, rows, code = cold_cli([DATA / "ravdess-original-48k"])
    labelled = sum("label" in r for r in rows)

    t0 = time.perf_counter()
    from ser_engine.runtime import quiet_tensorflow
    quiet_tensorflow()
    from ser_engine.predictor import Predictor
    predictor, _ = Predictor.from_path(None)
    predictor.warm_up()
    load_seconds = time.perf_counter() - t0
    runtime = "LiteRT, no TensorFlow" if predictor.runtime == "litert" else "TensorFlow/Keras"

    four = next(p for p in sorted((DATA / "ravdess-speech-16k").rglob("*.flac")) if p.stat().st_size > 0)
    t1 = time.perf_counter()
    predictor.predict_file(four)
    first = time.perf_counter() - t1
    warm = []
    for p in originals[:10]:
        t = time.perf_counter()
        predictor.predict_file(p)
        warm.append(time.perf_counter() - t)

    from ser_engine.audio import load_audio
    clips = [load_audio(p) for p in sorted((DATA / "ravdess-speech-16k" / "Actor_03").glob("*.flac"))]
    long = np.concatenate(clips)
    while len(long) < 600 * 16000:
        long = np.concatenate([long, long])
    long = long[:600 * 16000]
    t2 = time.perf_counter()
    res = predictor.predict_array(long, path="10 min")
    long_seconds = time.perf_counter() - t2

    body = "\n".join([
        f"Model: `{predictor.bundle.model_id}` (shipped bundle).", "",
        "| What | Time |", "|---|---|",
        f"| `ser predict ravdess-original-48k --json`, cold process, 18 files (48 kHz WAV) | {cli_seconds:.1f} s "
        f"({labelled}/18 labelled, exit {code}) |",
        f"| Import the runtime ({runtime}) + load and warm the model, in process | {load_seconds:.2f} s |",
        f"| First 4 s file after loading | {first * 1000:.0f} ms |",
        f"| Later files (48 kHz originals, median of 10) | {np.median(warm) * 1000:.0f} ms |",
        f"| 10-minute recording, one call | {long_seconds:.1f} s ({600 / long_seconds:.0f}× real time, "
        f"{len(res.segments)} segments) |",
    ])
    write_section("bench_inference", "Inference", body, "bench/bench_inference.py")
    print(body)


if __name__ == "__main__":
    main()
