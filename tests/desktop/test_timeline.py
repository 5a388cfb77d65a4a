"""Long recordings in the Analyse tab: streaming progress, the two-tier timeline, clinician
corrections that survive a restart, exports from the GUI, the overview + slice view, and
File ▸ Clear cache."""

import csv
import json
import shutil

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QPointF, Qt

from tests.conftest import requires_data
from tests.ser_engine.long_fixtures import CLEAR_CLIPS, build_long_recording, shipped_predictor  # noqa: F401

pytestmark = [requires_data, pytest.mark.gui]
LONG = 120000  # ms


@pytest.fixture(scope="module")
def session_wav(tmp_path_factory, shipped_predictor):  # noqa: F811
    """~36 s: eight clear clips with pauses of low noise between them (a "session")."""
    return build_long_recording(tmp_path_factory.mktemp("session") / "session.wav", clips=CLEAR_CLIPS * 2,
                                predictor=shipped_predictor)


@pytest.fixture(scope="module")
def three_minutes(tmp_path_factory, session_wav):
    """A 3-minute recording (longer than the io worker's LONG_VIEW_SECONDS): the session, tiled."""
    y, sr = sf.read(session_wav.path, dtype="float32")
    reps = int(np.ceil(180 * sr / len(y)))
    path = tmp_path_factory.mktemp("three") / "three-minutes.wav"
    sf.write(path, np.tile(y, reps)[:180 * sr], sr, subtype="PCM_16")
    return path


@pytest.fixture
def every_block(monkeypatch):
    """Every block reaches the window (it hears of them at most 20 times a second otherwise,
    which on a fast machine is a handful for this file; the batching has its own tests)."""
    monkeypatch.setattr("desktop.analysis_worker.BLOCK_EMIT_SECONDS", 0.0)


def analyse(qtbot, w, path):
    with qtbot.waitSignal(w.idle, timeout=LONG):
        w.add_paths([str(path)])
    assert w.status_of(str(path)) == "done"
    return w.result_of(str(path))


def test_a_long_file_streams_progress_and_fills_the_timeline(window, qtbot, session_wav, every_block):
    from desktop.colours import NO_SPEECH_COLOUR, emotion_colour
    from ser_engine.segments import SegmentConfig

    path = str(session_wav.path)
    window._worker.segment_config = SegmentConfig(block_seconds=5.0, windows_per_block=4)
    seen = []

    def on_progress(p, fraction):
        # runs in the GUI thread, between blocks: what the user sees at that moment
        seen.append((fraction, window.table.cell_text(p, "Status"), len(window.signal_view.strip.segments()),
                     window._progress.isVisible()))

    window.analysis_progress.connect(on_progress)
    result = analyse(qtbot, window, path)
    fractions = [f for f, *_ in seen]
    assert len(seen) >= 8 and fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert any(status.startswith("analysing ") and status.endswith("%") for _, status, _, _ in seen)
    assert all(visible for *_, visible in seen)
    # the timeline filled while the file was analysed, before the result arrived
    partial = [n for _, _, n, _ in seen]
    assert any(0 < n < len(result.segments) for n in partial)
    assert partial == sorted(partial)
    strip = window.signal_view.strip
    assert strip.segments() == result.segments
    labels = [s.label for s in result.segments]
    assert "no speech" in labels and any(lab != "no speech" for lab in labels)
    assert strip.block_colours() == [emotion_colour(s.label).name() for s in result.segments]
    assert NO_SPEECH_COLOUR.lower() in strip.block_colours()
    # a session: the queue shows its headline as a share of the speech time (desktop.headline
    # decides what that share is), the chart its summary
    from desktop.headline import headline, summary_of

    h = headline(result)
    summ = summary_of(result)
    assert h.kind == "share" and h.value_text().endswith("% of speech")
    assert window.table.cell_text(path, "Label") == h.label + (" (uncertain)" if h.uncertain else "")
    assert window.table.cell_text(path, "Confidence") == h.value_text()
    assert window.table.cell_text(path, "Model") == "tiny-test-model"
    # the summary chart: share of speech time per emotion
    chart = window.panel.summary_chart
    assert chart.isVisible()
    assert chart.shares() == pytest.approx(summ.shares)
    assert sum(chart.shares().values()) == pytest.approx(1.0)


def test_a_short_clip_keeps_one_label_and_its_confidence(window, qtbot):
    from tests.conftest import ravdess_files

    f = str(ravdess_files([7], emotions=[5], per_emotion=1)[0])
    result = analyse(qtbot, window, f)
    assert result.label in result.probabilities
    assert window.table.cell_text(f, "Label").split(" ")[0] == result.label
    assert window.table.cell_text(f, "Confidence") == f"{result.confidence:.0%}"
    assert not window.panel.summary_chart.isVisible()  # a clip has no summary to read


def test_cancel_stops_a_long_file_within_a_block(window, qtbot, session_wav, every_block):
    from ser_engine.segments import SegmentConfig

    window._worker.segment_config = SegmentConfig(block_seconds=2.0, windows_per_block=2)
    seen = []

    def on_progress(_p, fraction):
        seen.append(fraction)
        if len(seen) == 2:
            window.cancel()

    window.analysis_progress.connect(on_progress)
    with qtbot.waitSignal(window.idle, timeout=LONG):
        window.add_paths([str(session_wav.path)])
    assert window.status_of(str(session_wav.path)) == "cancelled"
    # blocks already emitted still arrive, but the analysis stopped long before its end
    assert max(seen) < 0.9 and window.result_of(str(session_wav.path)) is None
    assert window.signal_view.strip.segments() == []


def click_timeline(qtbot, view, seconds, tier=1.5):
    strip = view.strip
    scene = strip.getViewBox().mapViewToScene(QPointF(seconds, tier))
    pos = view.mapFromScene(scene)
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=pos)


def test_click_and_keys_select_segments_and_set_the_clinician_tier(qtbot, make_window, session_wav):
    from ser_engine.review import review_path
    from ser_engine.segments import file_sha256

    path = str(session_wav.path)
    w = make_window()
    try:
        result = analyse(qtbot, w, path)
        view, strip, panel = w.signal_view, w.signal_view.strip, w.panel
        speech = [i for i, s in enumerate(result.segments) if s.is_speech]
        target = speech[0]
        seg = result.segments[target]
        click_timeline(qtbot, view, (seg.start + seg.end) / 2)
        assert w.selected_segment_index() == target and strip.selected() == target
        assert view.playhead() == pytest.approx(seg.start)
        assert dict(panel.shown_probabilities()) == pytest.approx(seg.probabilities)
        assert "Your label: none yet" in panel.clinician_text()
        # → moves to the next segment, ← back
        qtbot.keyClick(view, Qt.Key_Right)
        assert w.selected_segment_index() == target + 1
        assert view.playhead() == pytest.approx(result.segments[target + 1].start)
        qtbot.keyClick(view, Qt.Key_Left)
        assert w.selected_segment_index() == target
        # 1-8 set the clinician's label (the model's label order), saved at once
        labels = result.labels
        with qtbot.waitSignal(w.review_changed, timeout=5000):
            qtbot.keyClick(view, Qt.Key_4)
        assert w.clinician_intervals() == [(pytest.approx(seg.start), pytest.approx(seg.end), labels[3])]
        assert strip.clinician_blocks() == w.clinician_intervals()
        assert labels[3] in panel.clinician_text()
        saved = json.loads(review_path(file_sha256(path)).read_text())
        assert [c["label"] for c in saved["clinician"]] == [labels[3]]
        # a no-speech segment can be corrected too; 0 clears a label
        silent = next(i for i, s in enumerate(result.segments) if not s.is_speech)
        w.select_segment(silent)
        assert panel.headline() == "No speech"
        qtbot.keyClick(view, Qt.Key_2)
        assert len(w.clinician_intervals()) == 2
        qtbot.keyClick(view, Qt.Key_0)
        assert [lab for *_, lab in w.clinician_intervals()] == [labels[3]]
        # L loops the segment where playback works, and says why not where it does not
        qtbot.keyClick(view, Qt.Key_L)
        if w.player.available:
            assert w.player.loop_range() == pytest.approx((result.segments[silent].start, result.segments[silent].end))
        else:
            assert w.statusBar().currentMessage()
        # the summary chart follows the corrections
        assert "with your corrections" in panel.summary_chart.footer()
        # the audio is never modified
        assert file_sha256(path) == result.sha256
    finally:
        w.close()

    # a new window (an app restart) restores the corrections for the same recording
    w2 = make_window("settings2.ini")
    try:
        result2 = analyse(qtbot, w2, path)
        assert w2.clinician_intervals() == [(pytest.approx(seg.start), pytest.approx(seg.end), labels[3])]
        w2.select_path(path)
        assert w2.signal_view.strip.clinician_blocks() == w2.clinician_intervals()
        assert result2.segments == result.segments
    finally:
        w2.close()


def test_exports_from_the_gui_write_every_format(window, qtbot, tmp_path, session_wav):
    from praatio import textgrid
    from pympi.Elan import Eaf

    from tests.conftest import ravdess_files

    clip = str(ravdess_files([9], emotions=[3], per_emotion=1)[0])
    path = str(session_wav.path)
    with qtbot.waitSignal(window.idle, timeout=LONG):
        window.add_paths([path, clip, str(tmp_path / "missing.wav")])
    result = window.result_of(path)
    window.select_path(path)
    first_speech = next(i for i, s in enumerate(result.segments) if s.is_speech)
    window.select_segment(first_speech)
    window.set_clinician_label(1)
    seg = result.segments[first_speech]
    out = tmp_path / "out"

    def export(fmt, dest, queue=False):
        with qtbot.waitSignal(window.exports.export_finished, timeout=LONG) as blocker:
            window.exports.export(fmt, dest, queue=queue)
        assert blocker.args == [str(dest), ""], blocker.args

    # the selected recording, each format, re-read with its own reader
    export("csv", out / "one.csv")
    rows = list(csv.DictReader((out / "one.csv").open()))
    seg_rows = [r for r in rows if r["row"] == "segment"]
    assert len(seg_rows) == len(result.segments)
    assert seg_rows[first_speech]["clinician_label"] == result.labels[0]
    assert {r["model_id"] for r in rows} == {"tiny-test-model"}
    export("json", out / "one.json")
    data = json.loads((out / "one.json").read_text())
    assert len(data["segments"]) == len(result.segments) and data["clinician"][0]["label"] == result.labels[0]
    export("textgrid", out / "one.TextGrid")
    tg = textgrid.openTextgrid(str(out / "one.TextGrid"), includeEmptyIntervals=False)
    assert [e.label for e in tg.getTier("model").entries] == [s.label for s in result.segments]
    assert [e.label for e in tg.getTier("clinician").entries] == [result.labels[0]]
    export("eaf", out / "one.eaf")
    eaf = Eaf(str(out / "one.eaf"))
    assert len(eaf.get_annotation_data_for_tier("model")) == len(result.segments)
    assert [a[2] for a in eaf.get_annotation_data_for_tier("clinician")] == [result.labels[0]]
    export("audacity", out / "one")
    lines = (out / "one.clinician.txt").read_text().splitlines()
    assert lines[-1].split("\t") == [f"{seg.start:.6f}", f"{seg.end:.6f}", result.labels[0]]
    # the whole queue: one CSV (with the bad file's error row), JSON Lines, a folder of TextGrids
    export("csv", out / "queue.csv", queue=True)
    rows = list(csv.DictReader((out / "queue.csv").open()))
    assert {r["file"] for r in rows} == {path, clip, str(tmp_path / "missing.wav")}
    assert [r["error"] for r in rows if r["row"] == "error"] == ["file not found"]
    export("json", out / "queue.jsonl", queue=True)
    objs = [json.loads(line) for line in (out / "queue.jsonl").read_text().splitlines()]
    assert [o["path"] for o in objs] == [path, clip, str(tmp_path / "missing.wav")]
    export("textgrid", out / "grids", queue=True)
    assert sorted(p.name for p in (out / "grids").iterdir()) == sorted(
        [f"{session_wav.path.stem}.TextGrid", f"{ravdess_files([9], emotions=[3], per_emotion=1)[0].stem}.TextGrid"])
    # the queue summary (one row per file) is still there
    export("summary", out / "summary.csv")
    assert len(list(csv.DictReader((out / "summary.csv").open()))) == 3


def test_an_export_replaces_existing_files_only_if_the_user_agrees(window, qtbot, tmp_path):
    from tests.conftest import ravdess_files

    clip = str(ravdess_files([9], emotions=[3], per_emotion=1)[0])
    with qtbot.waitSignal(window.idle, timeout=LONG):
        window.add_paths([clip])
    window.select_path(clip)
    mine = tmp_path / "clip.TextGrid"
    mine.write_text("a TextGrid made by hand")
    window.dialogs.answer = False
    with qtbot.waitSignal(window.exports.export_finished, timeout=LONG) as blocker:
        window.exports.export("textgrid", mine)
    assert "keep the existing files" in blocker.args[1] and str(mine) in window.dialogs.asked[-1][2]
    assert mine.read_text() == "a TextGrid made by hand"  # before: replaced without a word
    window.dialogs.answer = True
    with qtbot.waitSignal(window.exports.export_finished, timeout=LONG) as blocker:
        window.exports.export("textgrid", mine)
    assert blocker.args == [str(mine), ""] and mine.read_text().startswith('File type = "ooTextFile"')


def test_an_export_that_cannot_be_written_says_why(window, qtbot, tmp_path, session_wav):
    import os

    if os.geteuid() == 0:
        # root writes into read-only folders: a path under a regular file fails for everyone
        blocked = tmp_path / "a-file"
        blocked.write_text("x")
        dest = blocked / "out.csv"
    else:
        ro = tmp_path / "read-only"
        ro.mkdir()
        ro.chmod(0o500)
        dest = ro / "out.csv"
    analyse(qtbot, window, session_wav.path)
    window.select_path(str(session_wav.path))
    with qtbot.waitSignal(window.exports.export_finished, timeout=LONG) as blocker:
        window.exports.export("csv", dest)
    target, error = blocker.args
    assert target == str(dest) and error and str(dest) in error
    assert window.statusBar().currentMessage().startswith("Export failed: ")
    assert "\n" not in error


def test_a_long_file_is_shown_from_its_overview_and_slices(window, qtbot, three_minutes, monkeypatch):
    import ser_engine.audio

    real = ser_engine.audio.load_audio

    def no_whole_loads(path, *a, **k):
        assert str(path) != str(three_minutes), "the long file was loaded whole"
        return real(path, *a, **k)

    monkeypatch.setattr(ser_engine.audio, "load_audio", no_whole_loads)
    view = window.signal_view
    with qtbot.waitSignal(window.views.view_shown, timeout=LONG):
        window.add_paths([str(three_minutes)])
    assert view.is_overview() and view.duration() == pytest.approx(180.0, abs=0.01)
    t, y = view.wave_curve.getOriginalDataset()
    assert len(y) < 180 * 16000 / 50  # an envelope, not the samples
    assert view.image.image.shape[0] == 257
    # zoom in: the visible stretch is read at full resolution (once the zooming settles)
    with qtbot.waitSignal(window.views.slice_shown, timeout=LONG) as blocker:
        for x0 in (90.0, 95.0, 100.0):  # a few quick steps: one read
            view.wave_plot.setXRange(x0, x0 + 10.0, padding=0)
    _, t0, t1 = blocker.args
    assert t0 <= 100.0 and t1 >= 110.0 and t1 - t0 <= 30.0 + 1e-6
    st, sy = view.slice_curve.getOriginalDataset()
    assert len(sy) == pytest.approx((t1 - t0) * 16000, abs=2) and st[0] == pytest.approx(t0, abs=1e-3)
    # a small pan inside the slice reads nothing more; a jump reads the new stretch
    view.wave_plot.setXRange(102.0, 112.0, padding=0)
    qtbot.wait(400)
    assert view.slice_range() == (t0, t1)
    with qtbot.waitSignal(window.views.slice_shown, timeout=LONG) as blocker:
        # NumPy bounds (as from np.linspace) once made the visibility check raise
        view.wave_plot.setXRange(np.float64(20.0), np.float64(30.0), padding=0)
    assert blocker.args[1] <= 20.0 and blocker.args[2] >= 30.0
    # zoomed out the slice is hidden and the overview stays
    view.reset_zoom()
    qtbot.wait(400)
    assert not view.slice_curve.isVisible()
    if not window.is_idle():
        with qtbot.waitSignal(window.idle, timeout=LONG):
            pass


def test_clear_cache_shows_the_size_asks_and_empties_the_folder(window, qtbot):
    from ser_engine.paths import user_cache_dir

    if not window.is_idle():  # the model settling says "Ready" in the status bar: not over our message
        with qtbot.waitSignal(window.idle, timeout=LONG):
            pass
    cache = user_cache_dir()
    (cache / "features").mkdir(parents=True, exist_ok=True)
    (cache / "features" / "a.npy").write_bytes(b"x" * 5000)
    (cache / "numba.bin").write_bytes(b"y" * 1000)
    window.dialogs.answer = False
    assert window.exports.ask_and_clear_cache() is False  # "No": nothing removed
    asked = window.dialogs.asked[-1][2]
    assert "6.0 kB" in asked and str(cache) in asked
    assert (cache / "numba.bin").exists()
    window.dialogs.answer = True
    with qtbot.waitSignal(window.exports.cache_cleared, timeout=LONG) as blocker:
        window.clear_cache_action.trigger()
    freed, failed = blocker.args
    assert freed == 6000 and failed == []
    assert cache.is_dir() and not any(cache.iterdir())
    assert "6.0 kB freed" in window.statusBar().currentMessage()
    assert window.exports.ask_and_clear_cache() is False  # empty now: nothing to ask
    assert window.statusBar().currentMessage() == "The cache is empty"


def test_the_export_dialog_offers_every_format_and_a_default_destination(qtbot, tmp_path):
    from desktop.export_dialog import FORMAT_CHOICES, ExportDialog

    d = ExportDialog(str(tmp_path), "/data/session-03.wav", can_selected=True)
    qtbot.addWidget(d)
    assert [d._format.itemData(i) for i in range(d._format.count())] == [k for k, _ in FORMAT_CHOICES]
    assert d.choice() == ("csv", str(tmp_path / "session-03.csv"), False)
    d._format.setCurrentIndex([k for k, _ in FORMAT_CHOICES].index("textgrid"))
    assert d.choice() == ("textgrid", str(tmp_path / "session-03.TextGrid"), False)
    d._all.setChecked(True)
    assert d.choice() == ("textgrid", str(tmp_path / "ser-studio-textgrid"), True)  # a folder
    assert "folder" in d._note.text()
    d._format.setCurrentIndex([k for k, _ in FORMAT_CHOICES].index("summary"))
    assert d.choice() == ("summary", str(tmp_path / "ser-studio-results.csv"), True)
    nothing = ExportDialog(str(tmp_path), "", can_selected=False)
    qtbot.addWidget(nothing)
    assert not nothing._one.isEnabled() and nothing.choice()[2] is True


def test_a_speaker_group_analyses_its_long_recordings_on_their_own(qapp, session_wav, tmp_path):
    """With Speaker baseline on, the worker hands the folder to the engine's analyse_group:
    clips form the group; a session is its own baseline, streamed alone; a broken file is a
    row with its reason. The results come with their content hash (the review's key)."""
    import hashlib

    from desktop.analysis_worker import AnalysisWorker
    from desktop.session import Job
    from tests.conftest import ravdess_files

    clip = str(ravdess_files([7], emotions=[5], per_emotion=1)[0])
    broken = tmp_path / "broken.wav"
    broken.write_text("not audio")
    worker = AnalysisWorker()
    worker.load_model()
    results, progress = [], []
    worker.result_ready.connect(results.append)
    worker.group_progress.connect(lambda done, total: progress.append((done, total)))
    worker.analyse(Job([clip, str(session_wav.path), str(broken)], True))
    by_path = {r.path: r for r in results}
    assert [r.path for r in results] == [clip, str(session_wav.path), str(broken)]
    assert not by_path[str(broken)].ok and by_path[str(broken)].error
    session_norm = by_path[str(session_wav.path)].normalisation
    assert "this recording" in session_norm.describe() or session_norm.mode == "global"
    assert "2 files" not in session_norm.describe()  # never the group's baseline
    clip_norm = by_path[clip].normalisation
    assert "session" not in clip_norm.describe()
    assert by_path[clip].sha256 == hashlib.sha256(open(clip, "rb").read()).hexdigest()
    assert progress and [d for d, _ in progress] == sorted(d for d, _ in progress)  # the status bar moves on


def test_a_finished_session_is_not_analysed_again_when_a_clip_joins_its_folder(window, qtbot, session_wav, tmp_path):
    from tests.conftest import ravdess_files

    folder = tmp_path / "speaker"
    folder.mkdir()
    session = folder / "session.wav"
    shutil.copy(session_wav.path, session)
    clip = folder / "clip.flac"
    shutil.copy(ravdess_files([7], emotions=[5], per_emotion=1)[0], clip)
    window.baseline_action.setChecked(True)
    with qtbot.waitSignal(window.idle, timeout=LONG):
        window.add_paths([str(session)])
    jobs = []
    window.session.events.job.connect(lambda job: jobs.append(list(job.paths)))
    with qtbot.waitSignal(window.idle, timeout=LONG):
        window.add_paths([str(clip)])
    assert jobs == [[str(clip)]]  # before: [session, clip], the hour analysed again for nothing
    assert window.status_of(str(session)) == "done" and window.status_of(str(clip)) == "done"


def test_speaker_group_results_arrive_with_their_content_hash(window, qtbot, tmp_path):
    """The review of a group's clip is keyed by its hash: the worker computes it, so the
    window never reads the file on the GUI thread when the clip is selected or exported."""
    import hashlib

    from tests.conftest import ravdess_files

    folder = tmp_path / "speaker"
    folder.mkdir()
    clips = []
    for src in ravdess_files([7], emotions=[3, 5], per_emotion=1):
        clips.append(folder / src.name)
        shutil.copy(src, clips[-1])
    window.baseline_action.setChecked(True)
    with qtbot.waitSignal(window.idle, timeout=LONG):
        window.add_paths([str(c) for c in clips])
    for c in clips:  # before: None, and the window hashed the file itself on every selection
        assert window.result_of(str(c)).sha256 == hashlib.sha256(c.read_bytes()).hexdigest()
