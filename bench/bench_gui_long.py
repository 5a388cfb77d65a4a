"""GUI figures for a 60-minute recording (issue 5): time until its waveform and spectrogram
are shown, frame times while panning and zooming, peak RSS of the GUI process.

The recording is built in a temporary folder (``bench_long.build_recording``: RAVDESS clips of
actors 01-20 end to end with 1.5 s pauses of low noise, 16-bit WAV at 16 kHz). The window runs
offscreen in a fresh process with the shipped model and playback off:

- *view on drop*: from ``add_paths`` (the file becomes the selection and its analysis starts)
  to ``view_shown`` (overview waveform + spectrogram drawn), the analysis running beside it;
- *view on reselection*: the same after the analysis finished, the view cache emptied;
- *frame time*: a zoom from the whole file to 10 s in 120 steps, then at two zoom levels
  (10 min, 30 s) a pan across the file in 120 steps; each step is ``setXRange`` + processing the pending events, which
  repaints the window once (what a scroll-wheel step costs the GUI thread);
- *slice after the last step*: at a 30 s view, from the last scroll step until the
  full-resolution slice is drawn (the 150 ms debounce + reading it on the I/O thread).

    .venv/bin/python bench/bench_gui_long.py [--minutes 60] [--no-write]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.record import write_section  # noqa: E402

REPEATS = 3

CHILD = r"""
import json, os, resource, sys, time
import numpy as np
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

app = QApplication([])
from desktop.main_window import MainWindow

wav, home = sys.argv[1], sys.argv[2]
w = MainWindow(settings=QSettings(os.path.join(home, "s.ini"), QSettings.IniFormat), playback=False)
w.resize(1440, 900)
w.show()
out = {}
state = {"phase": "model"}

def wait_for(signal, check=lambda *a: True, timeout=600):
    got = []
    def slot(*a):
        if check(*a):
            got.append(a)
    signal.connect(slot)
    t = time.perf_counter()
    while not got and time.perf_counter() - t < timeout:
        app.processEvents()
        time.sleep(0.001)
    signal.disconnect(slot)
    if not got:
        raise SystemExit("timed out")
    return got[0]

def idle():
    if not w.is_idle():
        wait_for(w.idle)

idle()  # the model is loaded
t0 = time.perf_counter()
w.add_paths([wav])
wait_for(w.view_shown, lambda p: p == wav)
out["view_on_drop"] = time.perf_counter() - t0
idle()
out["analysis_done"] = time.perf_counter() - t0
result = w.result_of(wav)
out["segments"] = len(result.segments)
out["duration"] = result.duration
w._view_cache.clear()
w._on_current_path_changed("")
t0 = time.perf_counter()
w._on_current_path_changed(wav)
wait_for(w.view_shown, lambda p: p == wav)
out["view_on_reselect"] = time.perf_counter() - t0

view = w.signal_view
plot = view.wave_plot
dur = result.duration
frames = {}
mid = dur / 2
zoom = [(mid - s / 2, mid + s / 2) for s in np.geomspace(dur, 10.0, 120)]
for name, steps in (("zoom in, whole file to 10 s", zoom),
                    ("pan, 10 min visible", [(x, x + 600.0) for x in np.linspace(0, dur - 600.0, 120)]),
                    ("pan, 30 s visible", [(x, x + 30.0) for x in np.linspace(0, dur - 30.0, 120)])):
    times = []
    for x0, x1 in steps:
        t = time.perf_counter()
        plot.setXRange(x0, x1, padding=0)
        app.processEvents()  # handles the range change and paints the window once
        times.append((time.perf_counter() - t) * 1000)
    frames[name] = {"median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95)),
                    "max_ms": float(np.max(times))}
out["frames"] = frames
# the last 30 s view: its full-resolution slice arrives after the debounce and the read
mid = dur / 2
t0 = time.perf_counter()
plot.setXRange(mid, mid + 30.0, padding=0)
wait_for(w.slice_shown)
out["slice_after_stop"] = time.perf_counter() - t0
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
w.shutdown()
print("JSON " + json.dumps(out))
"""


def load_average():
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def run_child(wav, home):
    env = dict(os.environ, PYTHONPATH=str(REPO), SER_STUDIO_HOME=str(home), TF_CPP_MIN_LOG_LEVEL="2",
               QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", CHILD, str(wav), str(home)], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=1800)
    for line in proc.stdout.splitlines():
        if line.startswith("JSON "):
            return json.loads(line[5:])
    raise RuntimeError(f"child failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    from bench.bench_long import build_recording

    with tempfile.TemporaryDirectory(prefix="ser-bench-gui-") as tmp:
        wav = Path(tmp) / f"session-{args.minutes:g}min.wav"
        build_recording(wav, args.minutes)
        home = Path(tmp) / "home"
        home.mkdir()
        before = load_average()
        runs = []
        for _ in range(REPEATS):
            runs.append(run_child(wav, home))
        after = load_average()
    print(json.dumps(runs, indent=1))
    # the machine is shared: each figure is the median of the runs; the frame table is the
    # run with the median 10-min pan
    med = lambda key: sorted(x[key] for x in runs)[len(runs) // 2]  # noqa: E731
    r = dict(runs[0], **{k: med(k) for k in ("view_on_drop", "view_on_reselect", "analysis_done",
                                               "slice_after_stop", "peak_rss_mb")})
    r["frames"] = sorted(runs, key=lambda x: x["frames"]["pan, 10 min visible"]["median_ms"])[len(runs) // 2]["frames"]
    spread = ", ".join(f"{x['view_on_drop']:.2f}" for x in runs)
    f = r["frames"]
    rows = "\n".join(f"| {name} | {v['median_ms']:.1f} ms | {v['p95_ms']:.1f} ms | {v['max_ms']:.1f} ms |"
                     for name, v in f.items())
    body = f"""
Each figure is the median of {len(runs)} fresh processes. Recording: {r['duration'] / 60:.0f} minutes ({r['segments']} segments), RAVDESS clips of actors 01–20 with 1.5 s pauses of low noise, 16-bit WAV at 16 kHz, built in a temporary folder (`bench_long.build_recording`). The window runs offscreen in a fresh process (shipped model, playback off).

| What | Time |
|---|---|
| Waveform + spectrogram shown after the file is dropped (its analysis starting beside it) | {r['view_on_drop']:.2f} s (runs: {spread}) |
| … after selecting it again (analysis finished, view cache emptied) | {r['view_on_reselect']:.2f} s |
| Whole analysis, from the drop (the timeline filled meanwhile) | {r['analysis_done']:.1f} s |
| Full-resolution slice drawn after the last scroll step at a 30 s view (150 ms debounce + read) | {r['slice_after_stop']:.2f} s |

Frame time while zooming (whole file to 10 s around its middle, 120 steps) and panning (120 steps across the file at each zoom). A step is `setXRange` + processing the pending events, which repaints the window once; offscreen, so this is the GUI thread's cost without a screen or GPU. Figures of the median run:

| Steps | Median | 95th percentile | Max |
|---|---|---|---|
{rows}

Peak RSS of the GUI process (model, window, overview, analysis): **{r['peak_rss_mb']:.0f} MB**.

Load average (1/5/15 min) before and after: {before}; {after} (the machine is shared: other sessions' work runs beside these figures).
"""
    print(body)
    if not args.no_write:
        write_section("bench_gui_long", "Long recordings in the window", body, "bench/bench_gui_long.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
