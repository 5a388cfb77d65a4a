"""docs/timeline.png: a 10-minute synthetic session after analysis, with the timeline's two
tiers (a few clinician corrections made), the probability panel and the summary chart.

The session: the 60 RAVDESS clips of one actor (one speaker, as in a real session), in a
shuffled order, trimmed of their silent ends, brought to one speech level (-24 dBFS RMS),
joined by pauses of 1-4 s of quiet noise (-85 dBFS), until 10 minutes; written to a
temporary folder. The shipped model labels it; the reviews go to a temporary user folder
(never the user's own). The view shows minutes 2:04-2:54 (a 50 s stretch: the slice at full
resolution) with four clinician corrections.

    .venv/bin/python bench/timeline_screenshot.py [--out docs/timeline.png] [--actor 5]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def build_session(dest, *, actor=5, minutes=10.0, seed=3):
    """Write the session WAV (16 kHz, 16-bit) and return its duration in seconds."""
    import numpy as np
    import soundfile as sf

    from ser_engine.audio import load_audio

    rng = np.random.default_rng(seed)
    folder = REPO.parent / "shared" / "data" / "ravdess-speech-16k" / f"Actor_{actor:02d}"
    clips = sorted(folder.glob("03-01-*.flac"))
    sr = 16000
    target = int(minutes * 60 * sr)
    noise = 10 ** (-85 / 20)  # a quiet room, like the recordings' own silences
    pieces, n = [], 0
    while n < target:
        for path in rng.permutation(clips):
            y = load_audio(path)
            loud = np.flatnonzero(np.abs(y) > 0.02)
            y = y[max(loud[0] - 1600, 0):loud[-1] + 1600] if len(loud) else y
            # one speaker at one microphone: the clips at one speech level (RAVDESS's strong-
            # intensity takes are up to 30 dB louder than its normal ones)
            y = (y * (10 ** (-24 / 20) / max(float(np.sqrt(np.mean(y ** 2))), 1e-6))).clip(-1, 1)
            pause = (noise * rng.standard_normal(int(rng.uniform(1.0, 4.0) * sr))).astype(np.float32)
            pieces += [y, pause]
            n += len(y) + len(pause)
            if n >= target:
                break
    y = np.concatenate(pieces)[:target]
    sf.write(dest, y, sr, subtype="PCM_16")
    return len(y) / sr


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "timeline.png"))
    parser.add_argument("--actor", type=int, default=5)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="ser-timeline-shot-"))
    os.environ["SER_STUDIO_HOME"] = str(tmp / "home")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    wav = tmp / f"session-actor{args.actor:02d}.wav"
    duration = build_session(wav, actor=args.actor)
    print(f"session: {duration:.0f} s -> {wav}")

    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from desktop.main_window import MainWindow

    window = MainWindow(settings=QSettings(str(tmp / "settings.ini"), QSettings.IniFormat), playback=False)
    window.resize(1500, 920)
    window.show()
    state = {"started": False, "t0": 0.0}

    def corrections():
        result = window.result_of(str(wav))
        segs = result.segments
        labels = result.labels
        # a clinician's review of minutes 2-3: a few corrections (a label the model
        # missed, a no-speech stretch that holds speech, a confirmation)
        speech = [i for i, s in enumerate(segs) if s.is_speech and 125 <= s.start <= 200]
        picks = speech[1:8:2]
        choices = [labels.index("sad"), labels.index("calm"), labels.index("neutral"), labels.index("angry")]
        for i, k in zip(picks, choices):
            window.select_segment(i)
            window.set_clinician_label(k + 1)
        window.signal_view.wave_plot.setXRange(124.0, 174.0, padding=0)  # 50 s: the full-resolution slice
        window.select_segment(picks[1] if len(picks) > 1 else picks[0])

    def save():
        if state.get("saved"):
            return
        state["saved"] = True
        app.processEvents()
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(args.out)
        print(f"{'wrote' if ok else 'FAILED to write'} {args.out}")
        window.shutdown()
        app.quit()

    def on_idle():
        if not state["started"]:
            state["started"] = True
            state["t0"] = time.perf_counter()
            window.add_paths([str(wav)])
            return
        print(f"analysed in {time.perf_counter() - state['t0']:.1f} s")
        window.select_path(str(wav))
        def then_save():
            window.slice_shown.connect(lambda *_: QTimer.singleShot(300, save))
            corrections()

        state["saved"] = False
        if window.shown_view_path() == str(wav):
            QTimer.singleShot(100, then_save)
        else:
            window.view_shown.connect(lambda _p: then_save())

    window.idle.connect(on_idle)
    app.exec()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
