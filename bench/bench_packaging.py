"""Size of the frozen app and the .deb, and start-up of the frozen app beside the source one.

    make dist && .venv/bin/python bench/bench_packaging.py [--runs 3] [--no-record]

Start-up: each run is a new process, ``ser-studio --quit-when-idle FILE`` offscreen with
``SER_STUDIO_TIMING=1``; the app prints when its window was shown and when the file was
labelled (the queue idle), and both are taken from the moment the process was launched.
The first run of each warms the OS file cache and is not counted.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.record import write_section  # noqa: E402

APP_DIR = REPO / "dist" / "SER Studio"
SAMPLE = REPO.parent / "shared" / "data" / "ravdess-original-48k" / "Actor_01" / "03-01-03-02-01-01-01.wav"


def folder_mb(path):
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def biggest_parts(app_dir, n=8):
    """The largest top-level entries of ``_internal`` (package folders and shared libraries)."""
    internal = app_dir / "_internal"
    sizes = {}
    for entry in internal.iterdir():
        sizes[entry.name] = folder_mb(entry) if entry.is_dir() else entry.stat().st_size / 1e6
    return sorted(sizes.items(), key=lambda kv: -kv[1])[:n]


def start_times(command, runs):
    """Median seconds from launch to window shown and to the first label, over ``runs``."""
    window, label = [], []
    for i in range(runs + 1):
        with tempfile.TemporaryDirectory() as home:
            env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SER_STUDIO_TIMING="1", SER_STUDIO_HOME=home)
            started = time.time()
            proc = subprocess.run([*command, "--quit-when-idle", str(SAMPLE)], capture_output=True, text=True,
                                  env=env, timeout=300)
        if proc.returncode != 0:
            raise SystemExit(f"{command[0]} exited {proc.returncode}: {proc.stderr[-1000:]}")
        marks = dict(line.split()[1:3] for line in proc.stderr.splitlines() if line.startswith("SER_TIMING "))
        if i == 0:
            continue  # warms the file cache
        window.append(float(marks["window"]) - started)
        label.append(float(marks["idle"]) - started)
    return statistics.median(window), statistics.median(label), (min(label), max(label))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--no-record", action="store_true")
    args = p.parse_args()
    if not (APP_DIR / "ser-studio").exists():
        raise SystemExit(f"no frozen app in {APP_DIR}: run `make dist` first")
    debs = sorted((REPO / "dist").glob("ser-studio_*_amd64.deb"))
    app_mb = folder_mb(APP_DIR)
    deb_mb = debs[-1].stat().st_size / 1e6 if debs else float("nan")
    parts = biggest_parts(APP_DIR)
    source = start_times([str(REPO / ".venv" / "bin" / "ser-studio")], args.runs)
    frozen = start_times([str(APP_DIR / "ser-studio")], args.runs)
    load = os.getloadavg()

    rows = "\n".join(f"| `{name}` | {mb:.0f} MB |" for name, mb in parts)
    body = f"""
| | size |
|---|---|
| one-folder app `dist/SER Studio/` | **{app_mb:.0f} MB** |
| Debian package `{debs[-1].name if debs else '-'}` (zstd) | **{deb_mb:.0f} MB** |

Largest parts of the app folder:

| part | size |
|---|---|
{rows}

Start-up, median of {args.runs} runs after one warm-up run (`--quit-when-idle` a 4 s file, offscreen,
from process launch):

| | window shown | first label (range) |
|---|---|---|
| `make run` (source, `.venv/bin/ser-studio`) | {source[0]:.2f} s | {source[1]:.2f} s ({source[2][0]:.2f}–{source[2][1]:.2f}) |
| frozen (`dist/SER Studio/ser-studio`) | {frozen[0]:.2f} s | {frozen[1]:.2f} s ({frozen[2][0]:.2f}–{frozen[2][1]:.2f}) |

Load average during the run: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}.
"""
    print(body)
    if not args.no_record:
        write_section("bench_packaging", "Packaging: sizes and frozen start-up", body, "bench/bench_packaging.py")


if __name__ == "__main__":
    main()
