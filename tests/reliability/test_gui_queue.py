"""The bad-input catalogue and a 2-hour recording through the window's queue (pytest-qt,
offscreen), an export into a folder that cannot be written, and a tampered active model."""

import json
import shutil

import pytest

from ser_engine import EMOTIONS
from ser_engine.results import NO_SPEECH
from tests.conftest import ravdess_files, requires_data
from tests.reliability.badinputs import CASES, build_all
from tests.reliability.conftest import run_ser

pytest.importorskip("pytestqt")
pytestmark = pytest.mark.gui  # the window with the shipped model: tens of seconds a test
LONG = 180000  # ms: the machine may be busy; a hang still fails
#: the longest the event loop may stall during an analysis (generous: the machine is shared)
STALL_S = 3.0


def _window(qtbot, tmp_path, model_path=None):
    from PySide6.QtCore import QSettings

    from desktop.main_window import MainWindow
    from tests.desktop.fakes import FakeDialogs

    w = MainWindow(model_path=model_path, settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat),
                   playback=False, dialogs=FakeDialogs())
    qtbot.addWidget(w)
    w.show()
    return w


def _wait_idle(qtbot, w, add=None):
    if add is None and w.is_idle():
        return
    with qtbot.waitSignal(w.idle, timeout=LONG):
        if add is not None:
            w.add_paths(add)


@pytest.fixture
def window(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    yield w
    w.close()


@requires_data
def test_every_bad_input_becomes_a_row_with_its_reason_or_a_label(window, qtbot, tmp_path):
    folder = tmp_path / "Séance – été"
    paths = build_all(folder)
    good = []
    for src in ravdess_files([6], emotions=[3, 4], per_emotion=1):
        good.append(str(folder / src.name))
        shutil.copy(src, good[-1])
    files = [good[0]] + [str(paths[c.name]) for c in CASES] + [good[1]]
    _wait_idle(qtbot, window, files)
    queued = window.queued_paths()
    assert str(paths["x.wav"]) not in queued, "a folder is walked for audio, not queued as a file"
    for case in CASES:
        path = str(paths[case.name])
        if case.name == "x.wav":
            continue
        if case.refused:
            assert window.status_of(path) == "error", case.kind
            reason = window.error_of(path)
            assert case.reason in reason and "\n" not in reason and "Traceback" not in reason, (case.kind, reason)
            assert case.reason in window.table.cell_text(path, "Label")
        else:
            assert window.status_of(path) == "done", (case.kind, window.error_of(path))
            label = window.table.cell_text(path, "Label")
            if case.speech:
                assert window.result_of(path).label in EMOTIONS and label.split(" ")[0] in EMOTIONS, case.kind
            else:  # silence, noise: the timeline has no speech, and the row says so
                assert window.result_of(path).label == NO_SPEECH and label == NO_SPEECH, (case.kind, label)
    # the good files: the answers `ser predict --segments` (the window's analysis) gives them
    # alone, in another process
    alone = [json.loads(line) for line in
             run_ser(["predict", "--segments", "--json", *good], cwd=tmp_path).stdout.splitlines()]
    for g, a in zip(good, alone, strict=True):
        assert window.status_of(g) == "done"
        assert window.result_of(g).label == a["label"]
        assert window.result_of(g).confidence == pytest.approx(a["confidence"], abs=1e-4)
    # selecting each file draws its view or says why not; the window stays responsive
    for path in queued:
        if window.selected_path() == path and window.shown_view_path() == path:
            continue  # the first file, selected and drawn when it was queued
        with qtbot.waitSignal(window.views.view_shown, timeout=60000, check_params_cb=lambda p, path=path: p == path):
            window.select_path(path)
    assert window.statusBar().currentMessage() == "Ready"


@requires_data
def test_export_into_a_read_only_folder_says_why_and_loses_nothing(window, qtbot, readonly_dir):
    src = ravdess_files([6], emotions=[5], per_emotion=1)
    _wait_idle(qtbot, window, [str(src[0])])
    before = sorted(p.name for p in readonly_dir.iterdir())
    earlier = (readonly_dir / "earlier results.csv").read_text(encoding="utf-8")
    with qtbot.waitSignal(window.exports.export_finished, timeout=LONG) as sig:
        window.exports.export("summary", str(readonly_dir / "earlier results.csv"))
    target, error = sig.args
    assert error and "\n" not in error and str(readonly_dir) in error
    assert "Export failed" in window.statusBar().currentMessage()
    assert (readonly_dir / "earlier results.csv").read_text(encoding="utf-8") == earlier
    assert sorted(p.name for p in readonly_dir.iterdir()) == before, "no temporary file left behind"


def _tampered_active_copy(tmp_path):
    from ser_engine.models import set_active
    from ser_engine.paths import shipped_model_dir

    chosen = tmp_path / "my model"
    shutil.copytree(shipped_model_dir(), chosen)
    set_active(chosen)
    card = chosen / "card.md"
    data = bytearray(card.read_bytes())
    data[10] ^= 0x01  # one bit of one byte: a tampered or corrupted bundle
    card.write_bytes(bytes(data))
    return chosen


def test_a_tampered_active_model_falls_back_to_the_shipped_one(qtbot, tmp_path):
    from ser_engine.models import resolve_bundle
    from ser_engine.paths import shipped_model_dir

    chosen = _tampered_active_copy(tmp_path)
    bundle, warning = resolve_bundle()
    assert bundle.source == shipped_model_dir()
    assert str(chosen) in warning and "checksum" in warning and "shipped model" in warning
    w = _window(qtbot, tmp_path)
    try:
        _wait_idle(qtbot, w)
        assert w.session.model.warning == warning
        assert w.session.model.source == str(shipped_model_dir())
    finally:
        w.close()


def test_the_window_says_that_the_chosen_model_was_replaced(qtbot, tmp_path):
    chosen = _tampered_active_copy(tmp_path)
    w = _window(qtbot, tmp_path)
    try:
        _wait_idle(qtbot, w)  # once the model settled: the message is not replaced by "Ready"
        message = w.statusBar().currentMessage()
        assert "could not be used" in message and str(chosen) in message and "shipped model" in message
    finally:
        w.close()


@pytest.mark.slow
def test_a_two_hour_recording_in_the_window(window, qtbot, tmp_path):
    """The window's analysis (the same as ``ser predict --segments``) of a 2-hour file: done and
    drawn, and the window's event loop never stalls while it runs."""
    import time

    from PySide6.QtCore import QTimer

    from tests.reliability.badinputs import write_long_flac

    path = str(write_long_flac(tmp_path / "two hours.flac", hours=2.0))
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(50)
    try:
        with qtbot.waitSignal(window.views.view_shown, timeout=LONG, check_params_cb=lambda p: p == path):
            _wait_idle(qtbot, window, [path])
    finally:
        timer.stop()
    assert window.status_of(path) == "done", window.error_of(path)
    result = window.result_of(path)
    assert result.duration == pytest.approx(7200, abs=0.01) and result.segments[-1].end == pytest.approx(7200)
    assert result.summary().no_speech_seconds > 0.9 * 7200
    assert window.table.cell_text(path, "Label").split(" ")[0] in EMOTIONS
    stall = max(b - a for a, b in zip(ticks, ticks[1:], strict=False))
    print(f"longest stall of the event loop: {stall:.2f} s over {ticks[-1] - ticks[0]:.1f} s")
    assert stall < STALL_S, f"the window froze for {stall:.1f} s"
