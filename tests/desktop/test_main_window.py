"""The analysis window, driven as a user would: files in, labels out, views follow the selection."""

import csv
import re
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from ser_engine import EMOTIONS
from tests.conftest import REPO, ravdess_files, requires_data
from tests.desktop.fakes import FakeDialogs

pytestmark = [requires_data, pytest.mark.gui]
LONG = 120000  # ms; the tiny model loads in a few seconds, but the machine may be busy


def wait_idle(qtbot, w, add=None):
    with qtbot.waitSignal(w.idle, timeout=LONG):
        if add is not None:
            w.add_paths(add)


def wait_ready(qtbot, w):
    """Until the model is loaded (the window says idle once it is, the queue being empty)."""
    if not w.is_idle():
        with qtbot.waitSignal(w.idle, timeout=LONG):
            pass
    assert w.is_idle()


def test_model_loads_then_files_are_labelled_and_a_broken_one_is_a_red_row(window, qtbot, tmp_path):
    assert window.statusBar().currentMessage() in ("Loading model…", "Ready")
    bad = tmp_path / "broken.wav"
    bad.write_text("not audio")
    files = [str(f) for f in ravdess_files([7], emotions=[3, 4], per_emotion=1)]
    wait_idle(qtbot, window, [files[0], str(bad), files[1]])
    paths = window.queued_paths()
    assert paths == [files[0], str(bad), files[1]]
    assert [window.status_of(p) for p in paths] == ["done", "error", "done"]
    for p in (files[0], files[1]):
        label = window.table.cell_text(p, "Label").split(" ")[0]
        assert label in EMOTIONS and label == window.result_of(p).label
        assert window.table.cell_text(p, "Confidence").endswith("%")
        assert re.fullmatch(r"0:0\d\.\d", window.table.cell_text(p, "Duration"))  # a clock, as everywhere
    # the error row: reason in the tooltip and the label cell, red background
    from desktop.colours import ERROR_BACKGROUND
    from desktop.queue_model import FILE

    model = window.table.queue_model
    index = model.index(model.row_of(str(bad)), FILE)
    assert "not a readable audio file" in index.data(Qt.ToolTipRole)
    assert index.data(Qt.BackgroundRole).color().name() == ERROR_BACKGROUND
    assert "not a readable audio file" in window.table.cell_text(str(bad), "Label")
    # the longest answer, an uncertain "surprised", fits the Label column whole in this font
    from desktop.queue_model import LABEL
    from desktop.queue_table import LABEL_DECORATION

    room = window.table.columnWidth(LABEL) - LABEL_DECORATION + 8  # the 8 px to spare
    metrics = window.table.fontMetrics()
    assert metrics.elidedText("surprised (uncertain)", Qt.TextElideMode.ElideRight, room) == "surprised (uncertain)"
    assert window.statusBar().currentMessage() == "Ready"
    assert "tiny-test-model" in window.windowTitle()


def test_a_model_that_cannot_load_is_said_in_the_window_and_the_file_waits(qtbot, tmp_path):
    """The worker's model_failed reached the session straight from the worker thread (a plain
    method, not a window slot): the panel and the status bar were changed from that thread, Qt
    warned of children made in another thread, and the app crashed (exit 139, under Xvfb)."""
    from PySide6.QtCore import QSettings

    from desktop.main_window import MainWindow

    empty = tmp_path / "no-model"
    empty.mkdir()
    w = MainWindow(model_path=str(empty), settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat),
                   dialogs=FakeDialogs())
    qtbot.addWidget(w)
    w.show()
    threads = []
    w.session.events.model.connect(lambda: threads.append(threading.current_thread()))
    clip = str(ravdess_files([3], emotions=[2], per_emotion=1)[0])
    with qtbot.waitSignal(w.idle, timeout=LONG):
        w.add_paths([clip])
    assert threads and all(t is threading.main_thread() for t in threads)
    assert w.session.model_state == "failed" and w.status_of(clip) == "queued"
    assert w.statusBar().currentMessage().startswith("No model")
    w.close()


def test_a_real_drop_of_a_folder_and_files_queues_them(window, qtbot, tmp_path):
    import shutil

    folder = tmp_path / "speaker"
    folder.mkdir()
    src = ravdess_files([9], emotions=[1, 5], per_emotion=1)
    for f in src:
        shutil.copy(f, folder / f.name)
    (folder / "notes.txt").write_text("ignored: not audio")
    loose = ravdess_files([9], emotions=[6], per_emotion=1)[0]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder)), QUrl.fromLocalFile(str(loose))])
    target = window.signal_view  # "anywhere on the window": a child that does not take drops itself
    pos = target.rect().center()
    enter = QDragEnterEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(window.idle, timeout=LONG):
        drop = QDropEvent(QPointF(pos), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
        QApplication.sendEvent(target, drop)
        assert drop.isAccepted()
    expected = sorted(str(folder / f.name) for f in src) + [str(loose)]
    assert window.queued_paths() == expected
    assert all(window.status_of(p) == "done" for p in expected)


def test_selection_updates_the_views_and_the_bars(window, qtbot):
    files = [str(f) for f in ravdess_files([11], emotions=[2, 7], per_emotion=1)]
    wait_idle(qtbot, window, files)
    target = files[1]
    with qtbot.waitSignal(window.views.view_shown, timeout=LONG, check_params_cb=lambda p: p == target):
        window.select_path(target)
    result = window.result_of(target)
    panel = window.panel
    shown = panel.shown_probabilities()
    # all classes, sorted, the bars showing the result's calibrated probabilities
    assert [k for k, _ in shown] == sorted(result.probabilities, key=lambda k: -result.probabilities[k])
    assert sorted(k for k, _ in shown) == sorted(EMOTIONS)
    np.testing.assert_allclose([v for _, v in shown], [result.probabilities[k] for k, _ in shown])
    np.testing.assert_allclose(panel.bar_values(), [v for _, v in shown], atol=1e-3)
    assert panel.headline().lower() == result.label
    assert panel.is_uncertain_shown() == result.uncertain
    # the strip: one block per segment, in the segment's colour
    from desktop.colours import emotion_colour

    strip = window.signal_view.strip
    assert strip.segments() == result.segments and len(result.segments) >= 1
    assert strip.block_colours() == [emotion_colour(s.label).name() for s in result.segments]
    assert len(panel.segment_rows()) == len(result.segments)
    # waveform and spectrogram: the file's duration, 257 frequency rows, Hz up to 8 kHz
    view = window.signal_view
    t, y = view.wave_curve.getOriginalDataset()
    assert abs(t[-1] - result.duration) < 0.01 and len(y) == round(result.duration * 16000)
    image = view.image.image
    assert image.shape[0] == 257 and image.dtype == np.float32
    rect = view.image.mapRectToParent(view.image.boundingRect())
    assert abs(rect.right() - result.duration) < 0.05 and abs(rect.bottom() - 8000) < 40
    assert view.levels() == pytest.approx((-120.0, -30.0))
    # linked time axes: zooming one moves the others
    view.wave_plot.setXRange(0.5, 1.0, padding=0)
    assert view.spec_plot.viewRange()[0] == pytest.approx([0.5, 1.0], abs=1e-6)
    assert view.strip.viewRange()[0] == pytest.approx([0.5, 1.0], abs=1e-6)

    # clicking a segment shows its probabilities; "whole recording" goes back
    seg = result.segments[0]
    view.segment_clicked.emit(0)
    np.testing.assert_allclose(sorted(v for _, v in panel.shown_probabilities()),
                               sorted(seg.probabilities.values()))
    window.session.select_segment(-1)  # the panel's "Show whole recording"
    np.testing.assert_allclose(sorted(v for _, v in panel.shown_probabilities()),
                               sorted(result.probabilities.values()))

    # another selection replaces everything
    other = files[0]
    with qtbot.waitSignal(window.views.view_shown, timeout=LONG, check_params_cb=lambda p: p == other):
        window.select_path(other)
    assert panel.headline().lower() == window.result_of(other).label
    assert strip.segments() == window.result_of(other).segments


def test_seek_moves_the_playhead_and_playback_off_does_not_crash(qtbot, tiny_bundle, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    import desktop.player
    from desktop.main_window import MainWindow

    def missing():
        raise ImportError("libpulse.so.0: cannot open shared object file")

    monkeypatch.setattr(desktop.player, "_import_multimedia", missing)
    w = MainWindow(model_path=str(tiny_bundle), settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat),
                   dialogs=FakeDialogs())
    qtbot.addWidget(w)
    w.show()
    try:
        assert not w.player.available
        assert "Playback unavailable" in w.timeline.playback_note.text()
        f = str(ravdess_files([12], emotions=[4], per_emotion=1)[0])
        with qtbot.waitSignal(w.views.view_shown, timeout=LONG):
            w.add_paths([f])
        qtbot.keyClick(w, Qt.Key_Space)           # play: explained in the status bar, no crash
        w.play_action.trigger()
        assert "Playback unavailable" in w.statusBar().currentMessage()
        w.signal_view.seek_requested.emit(1.5)    # what a click on the plots emits
        assert w.signal_view.playhead() == pytest.approx(1.5)
        duration = w.result_of(f).duration if w.result_of(f) is not None else w.session.selected_duration()
        assert w.timeline.time_label.text() == f"0:01.5 / 0:0{duration:.1f}"
    finally:
        w.close()


def _waited_for_a_core_ms():
    """How long this thread has been ready to run but left waiting for a core by the OS scheduler
    (Linux schedstat); 0 where the kernel does not say, which only makes the test stricter."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
            return int(f.read().split()[1]) / 1e6
    except (OSError, IndexError, ValueError):
        return 0.0


#: CPU time of :func:`_reference_work` on the development machine (min of 7, 2026-12-03): the
#: 100 ms bar below is for a host that fast, and grows with a slower one.
REFERENCE_WORK_MS = 17.0


def _reference_work():
    totals = {}
    for i in range(60000):
        totals[i % 997] = totals.get(i % 997, 0) + i * 0.5
    return totals


def _host_slowness():
    """How many times slower than the development machine this host runs Python now (at least 1):
    CI measured 100 ms of GUI work between two ticks where this machine measured 41 ms."""
    best = float("inf")
    for _ in range(7):
        t = time.thread_time()
        _reference_work()
        best = min(best, (time.thread_time() - t) * 1000)
    return max(1.0, best / REFERENCE_WORK_MS)


class TickClock:
    """A 10 ms timer on the GUI thread. Between two ticks the thread either works (its CPU time),
    waits for a core (the scheduler: the suite's other process, the host), or sleeps; sleeping
    beyond the timer's 10 ms is being kept waiting by this process (the GIL held by the analysis
    thread, a lock). Each tick records the three apart."""

    def __init__(self):
        self.late, self.busy, self.kept_waiting = [], [], []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)

    def _now(self):
        return time.perf_counter() * 1000, time.thread_time() * 1000, _waited_for_a_core_ms()

    def start(self):
        self.last = self._now()
        self.timer.start()

    def _tick(self):
        now = self._now()
        wall, cpu, queued = (a - b for a, b in zip(now, self.last, strict=True))
        self.late.append(wall - 10)
        self.busy.append(cpu)
        self.kept_waiting.append(max(0.0, wall - cpu - queued - 10))
        self.last = now


def test_event_loop_never_stalls_while_30_files_are_analysed(window, qtbot):
    """While 30 files are analysed the GUI thread never works for 100 ms at a stretch (its own CPU
    time between two ticks of a 10 ms timer, on a host as fast as the development machine), and the
    analysis does not keep it waiting (the GIL, a lock): 99% of the ticks are at most 40 ms late
    beyond the thread's own work and the time the OS scheduler kept it from a core. The scheduler
    is left out because it is the machine, not the app: the suite runs in two processes on two
    cores, and in CI a busy host made ticks 103 ms late (p99) while the GUI thread's own work
    between two ticks was 66 ms at most. The start-up objects are frozen as the app freezes them
    (desktop.startup_objects): a full collection of the suite's 1.9 million objects is the test
    process, not the app."""
    import gc

    from desktop.startup_objects import freeze_after_startup

    files = [str(f) for f in ravdess_files([13, 14], per_emotion=2)][:30]
    assert len(files) == 30
    wait_ready(qtbot, window)
    freeze_after_startup(window.session)
    try:
        slowness = _host_slowness()
        clock = TickClock()
        clock.start()
        t0 = time.perf_counter()
        with qtbot.waitSignal(window.idle, timeout=LONG * 3):
            window.add_paths(files)
        elapsed = time.perf_counter() - t0
        clock.timer.stop()
    finally:
        gc.unfreeze()
    assert all(window.status_of(p) == "done" for p in files)
    busiest, waited = max(clock.busy), np.percentile(clock.kept_waiting, 99)
    print(f"\n30 files in {elapsed:.1f} s; {len(clock.late)} ticks; lateness max {max(clock.late):.1f} ms, "
          f"p99 {np.percentile(clock.late, 99):.1f} ms; the GUI thread's longest work between two ticks "
          f"{busiest:.1f} ms (tick {clock.busy.index(busiest) + 1}; the host {slowness:.2f}× the development "
          f"machine's time); kept waiting p99 {waited:.1f} ms, max {max(clock.kept_waiting):.1f} ms")
    assert busiest < 100 * slowness, f"the GUI thread worked for {busiest:.0f} ms without returning to its event loop"
    assert waited < 40, f"the analysis kept the GUI thread waiting: 1% of the ticks more than {waited:.0f} ms"


def test_cancel_stops_the_batch_and_analyse_again_resumes(window, qtbot):
    files = [str(f) for f in ravdess_files([15], per_emotion=1)]
    wait_ready(qtbot, window)
    with qtbot.waitSignal(window.idle, timeout=LONG):
        window.add_paths(files)
        window.cancel()
    statuses = [window.status_of(p) for p in files]
    assert statuses.count("done") <= 1 and statuses.count("cancelled") >= len(files) - 1
    assert "cancelled" in window._summary.text()
    with qtbot.waitSignal(window.idle, timeout=LONG):
        window.reanalyse()
    assert all(window.status_of(p) == "done" for p in files)


def _mode(result):
    """"global" or "speaker": the engine's normalisation record (or its older string)."""
    return getattr(result.normalisation, "mode", result.normalisation)


def test_speaker_baseline_analyses_a_folder_as_one_speaker_and_is_remembered(window, qtbot, tmp_path):
    files = [str(f) for f in ravdess_files([16], emotions=[3, 4, 5], per_emotion=1)]
    wait_idle(qtbot, window, files)
    assert {_mode(window.result_of(p)) for p in files} == {"global"}
    jobs = []
    window.session.events.job.connect(lambda job: jobs.append((sorted(job.paths), job.speaker_baseline)))
    with qtbot.waitSignal(window.idle, timeout=LONG):
        window.set_speaker_baseline(True)
    assert jobs == [(sorted(files), True)]  # the folder, as one speaker
    for p in files:  # a speaker baseline, or the engine's reason for global statistics (too little speech)
        norm = window.result_of(p).normalisation
        assert _mode(window.result_of(p)) == "speaker" or getattr(norm, "note", None), norm
    window.save_state(window._settings)
    assert window._settings.value("analysis/speaker_baseline") in (True, "true")


def test_the_summary_export_writes_every_row(window, qtbot, tmp_path):
    files = [str(f) for f in ravdess_files([17], emotions=[1, 8], per_emotion=1)]
    missing = str(tmp_path / "gone.wav")
    wait_idle(qtbot, window, files + [missing])
    out = tmp_path / "out" / "results.csv"
    with qtbot.waitSignal(window.exports.export_finished, timeout=LONG) as blocker:
        window.exports.export("summary", out)
    assert blocker.args == [str(out), ""]
    rows = list(csv.DictReader(out.open()))
    assert [r["path"] for r in rows] == files + [missing]
    for r, p in zip(rows, files, strict=False):  # the last row is the missing file's
        res = window.result_of(p)
        assert r["label"] == res.label and float(r["confidence"]) == pytest.approx(res.confidence, abs=1e-4)
        assert sum(float(r[f"p_{k}"]) for k in EMOTIONS) == pytest.approx(1.0, abs=1e-3)
    assert rows[-1]["status"] == "error" and rows[-1]["error"] == "file not found"
    assert not list(out.parent.glob(".*.tmp"))


def test_the_same_file_is_queued_once(window, qtbot):
    f = ravdess_files([7], emotions=[5], per_emotion=1)[0]
    wait_idle(qtbot, window, [str(f), str(f.parent / f.name)])
    assert len(window.queued_paths()) == 1


def test_settings_persist_last_folder_and_baseline(qtbot, tiny_bundle, tmp_path):
    from PySide6.QtCore import QSettings

    from desktop.main_window import MainWindow

    path = str(tmp_path / "persist.ini")
    folder = str(ravdess_files([7], emotions=[5], per_emotion=1)[0].parent)
    w = MainWindow(model_path=str(tiny_bundle), settings=QSettings(path, QSettings.IniFormat), dialogs=FakeDialogs())
    qtbot.addWidget(w)
    w.browser.set_folder(folder)
    w.baseline_action.setChecked(True)
    w.resize(780, 560)
    w.show()
    w.close()
    w2 = MainWindow(model_path=str(tiny_bundle), settings=QSettings(path, QSettings.IniFormat), dialogs=FakeDialogs())
    qtbot.addWidget(w2)
    try:
        assert w2.browser.folder() == folder
        assert w2.speaker_baseline()
        assert w2.minimumSizeHint().width() <= 780
        w2.show()
        assert w2.width() == w.width() == 780 and abs(w2.height() - 560) <= 40  # offscreen adds a frame
    finally:
        w2.close()


def test_browser_double_click_queues_a_file(window, qtbot):
    f = ravdess_files([7], emotions=[2], per_emotion=1)[0]
    window.browser.set_folder(f.parent)
    with qtbot.waitSignal(window.idle, timeout=LONG):
        window.browser.queue_path(f)
    assert window.queued_paths() == [str(f)] and window.status_of(str(f)) == "done"


def test_unexpected_exceptions_are_logged_and_reported(qtbot, tmp_path, monkeypatch):
    from desktop.crash_handler import CrashHandler

    monkeypatch.setenv("SER_STUDIO_HOME", str(tmp_path / "home"))
    handler = CrashHandler(show_dialog=False)
    try:
        raise RuntimeError("boom in a slot")
    except RuntimeError:
        with qtbot.waitSignal(handler.reported, timeout=5000) as blocker:
            handler.handle(*sys.exc_info())
    log = tmp_path / "home" / "logs"
    written = list(log.glob("crash-*.log"))
    assert len(written) == 1 and "boom in a slot" in written[0].read_text()
    assert blocker.args == [str(written[0]), "RuntimeError: boom in a slot"]


def test_model_card_and_about_show_the_model(window, qtbot):
    wait_ready(qtbot, window)
    window.card_action.trigger()
    assert window.help.card_dialog.isVisible()
    assert "tiny-test-model" in window.help.card_dialog.windowTitle()
    assert window.help.card_text().strip()
    window.about_action.trigger()
    kind, title, text = window.dialogs.asked[-1]
    assert kind == "about" and "SER Studio 0." in text and "tiny-test-model" in text and "PySide6" in text
    window.help.card_dialog.close()


def test_screenshot_hook_writes_a_png(tiny_bundle, tmp_path):
    import os

    out = tmp_path / "shot.png"
    files = [str(f) for f in ravdess_files([7], emotions=[5, 6], per_emotion=1)]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SER_STUDIO_HOME=str(tmp_path / "home"))
    proc = subprocess.run([sys.executable, "-m", "desktop.app", "--model", str(tiny_bundle), "--open", *files,
                           "--screenshot", str(out), "--quit-when-idle"], cwd=REPO, capture_output=True,
                          text=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20000
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert image.width() >= 700 and image.height() >= 600  # the offscreen screen is 800 × 800


def test_switching_models_relabels_nothing_silently(window, qtbot):
    """Rows say which model labelled them; after the Train tab makes another model active the
    old labels stay, marked, until the user analyses again."""
    from desktop.colours import OTHER_MODEL_COLOUR
    from desktop.queue_model import MODEL
    from ser_engine.models import resolve_bundle

    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == ["Analyse", "Train"]
    f = str(ravdess_files([12], emotions=[5], per_emotion=1)[0])
    wait_idle(qtbot, window, [f])
    assert window.table.cell_text(f, "Model") == "tiny-test-model"
    assert window._model_label.text() == "Model: tiny-test-model"
    queue = window.table.queue_model
    before = window.result_of(f)
    shipped = resolve_bundle()[0].model_id
    with qtbot.waitSignal(window.idle, timeout=LONG):
        window.train_tab.revert_model()  # the active model (here: the shipped one) replaces --model
    assert window._model_label.text() == f"Model: {shipped}" and shipped in window.windowTitle()
    assert window.result_of(f) is before and window.status_of(f) == "done"
    index = queue.index(queue.row_of(f), MODEL)
    assert index.data() == "tiny-test-model"
    assert index.data(Qt.ForegroundRole).color().name() == OTHER_MODEL_COLOUR
    assert f"not the active model ({shipped})" in index.data(Qt.ToolTipRole)
    assert "1 file labelled by another model" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.idle, timeout=LONG):
        window.reanalyse()
    assert window.table.cell_text(f, "Model") == shipped
    assert queue.index(queue.row_of(f), MODEL).data(Qt.ForegroundRole) is None
