"""The Train tab, driven as a user would: folder → summary → start → curves and report →
use the model → revert. Cancel and failure leave the active model byte-identical."""

import hashlib
import json
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import TINY, make_mini_dataset, ravdess_files, requires_data
from tests.desktop.fakes import FakeDialogs

pytestmark = [requires_data, pytest.mark.gui]
LONG = 240000  # ms: a tiny 3-fold run takes ~30 s here, more when the machine is busy


@pytest.fixture
def tab(qtbot, tmp_path):
    from desktop.train_tab import TrainTab

    t = TrainTab(cache_root=tmp_path / "cache", dialogs=FakeDialogs())
    t.extra_overrides = dict(TINY)
    qtbot.addWidget(t)
    t.resize(1300, 860)
    t.show()
    yield t
    t.shutdown()


def scan(qtbot, tab, folder):
    with qtbot.waitSignal(tab.folder_scanned, timeout=30000) as blocker:
        tab.set_folder(folder)
    return blocker.args[0]


def tree_digest(*paths):
    """SHA-256 of every file under ``paths`` (names and bytes)."""
    h = hashlib.sha256()
    for root in paths:
        root = Path(root)
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root] if root.exists() else []
        for f in files:
            h.update(str(f).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def test_summary_run_report_use_and_revert(tab, qtbot, tmp_path):
    from ser_engine.models import active_choice, resolve_bundle

    data = make_mini_dataset(tmp_path / "data", actors=(1, 2, 3), per_emotion=1)
    (data / "notes.txt").write_text("not audio")
    assert scan(qtbot, tab, data) is True
    text = tab.summary_text()
    assert "24 files of 3 actors" in text and "(24 at 16 kHz)" in text
    assert "01: 8 · 02: 8 · 03: 8" in text and "neutral 3" in text
    assert "Skipped: 1 file" in text and "notes.txt — not an audio file" in text
    shipped = resolve_bundle()[0].model_id

    tab.set_preset("full")
    tab.folds_spin.setValue(3)
    assert tab.start_button.isEnabled()
    seen = {"progress": [], "phases": set(), "eta": set()}

    def watch(event):
        seen["progress"].append(tab.progress.value())
        seen["phases"].add(tab.phase_label.text().split(":")[0])
        seen["eta"].add(tab.eta_label.text().split(":")[0])

    tab._runner.progress.connect(watch)
    with qtbot.waitSignal(tab.run_finished, timeout=LONG) as blocker:
        assert tab.start() is True
        assert not tab.start_button.isEnabled() and tab.cancel_button.isEnabled()
    assert blocker.args == ["ok"], tab.log_view.toPlainText()[-2000:]
    # progress moved, phases and the time left were shown, the curves grew per fold
    assert max(seen["progress"]) > 0 and tab.progress.value() == 1000
    assert {"Feature extraction", "Fold 1 of 3", "Fold 3 of 3", "Final model"} <= seen["phases"]
    assert "Time left" in seen["eta"]
    assert {"fold 1", "fold 2", "fold 3", "final"} <= set(tab.curves.run_names())
    xs, ys = tab.curves.points("fold 1", "val_loss")
    assert xs == [1, 2] and len(ys) == 2
    # the report: both modes, mean ± std, a heatmap per mode
    figures = tab.report_view.figures()
    titles = sorted(figures)  # the engine may say where the baseline came from after the mode
    assert len(titles) == 2 and titles[0] == "each file alone" and titles[1].startswith("with speaker baseline")
    assert all("±" in v for f in figures.values() for v in f.values())
    assert tab.report_view.recall.rowCount() == 8
    assert "not active yet" in tab.status_label.text()
    # the new model lives in the user data folder, and is not active until asked
    run = tab.last_run()
    assert Path(run["bundle"]).parent.parent == __import__("ser_engine.models", fromlist=["x"]).user_models_dir()
    assert active_choice() is None and resolve_bundle()[0].model_id == shipped
    with qtbot.waitSignal(tab.active_model_changed, timeout=5000):
        tab.use_model()
    assert active_choice() == Path(run["bundle"]).resolve()
    assert resolve_bundle()[0].model_id == run["report"]["model_id"] != shipped
    assert run["report"]["model_id"] in tab.active_label.text()
    # a restart (a new tab, as a new window would make) still sees it
    from desktop.train_tab import TrainTab

    again = TrainTab()
    qtbot.addWidget(again)
    assert run["report"]["model_id"] in again.active_label.text() and again.revert_button.isEnabled()
    with qtbot.waitSignal(tab.active_model_changed, timeout=5000):
        tab.revert_model()
    assert active_choice() is None and resolve_bundle()[0].model_id == shipped
    assert not tab.revert_button.isEnabled()


def test_a_rerun_reuses_the_feature_cache_and_says_so(tab, qtbot, tmp_path):
    data = make_mini_dataset(tmp_path / "data", actors=(1, 2), per_emotion=1)
    assert scan(qtbot, tab, data)
    tab.set_preset("quick")
    tab.extra_overrides = {**TINY, "epochs": 1}
    tab.extra_params = {"litert": False}  # the cache is what this test reads
    n_sets = 16 * 5  # 16 recordings, their two speed-perturbed copies and their two noisy copies
    for expected_cached in (0, n_sets):
        with qtbot.waitSignal(tab.run_finished, timeout=LONG) as blocker:
            tab.start()
        assert blocker.args == ["ok"]
        log = tab.log_view.toPlainText()
        if expected_cached:
            assert f"{expected_cached} of {expected_cached} feature sets come from the cache" in log
            # still said when the run is over, beside "New model ready"
            assert f"{expected_cached} of {expected_cached} feature sets from the cache" in tab.status_label.text()
        else:
            assert "from the cache" not in log and f"{n_sets} feature sets extracted (now cached" in log


def test_cancel_leaves_the_active_model_byte_identical(tab, qtbot, tmp_path, tiny_bundle):
    from ser_engine.models import active_pointer_path, set_active, user_models_dir

    chosen = user_models_dir() / "chosen"
    shutil.copytree(tiny_bundle, chosen)
    set_active(chosen)
    tab.refresh_active()
    before = tree_digest(active_pointer_path(), chosen)
    data = make_mini_dataset(tmp_path / "data", actors=(1, 2, 3), per_emotion=1)
    assert scan(qtbot, tab, data)
    tab.set_preset("full")
    tab.folds_spin.setValue(3)
    tab.extra_overrides = {**TINY, "epochs": 200, "patience": 200}
    with qtbot.waitSignal(tab._runner.progress, timeout=LONG, check_params_cb=lambda e: "epoch" in e):
        tab.start()
    t0 = time.monotonic()
    with qtbot.waitSignal(tab.run_finished, timeout=30000) as blocker:
        tab.cancel()
    stopped_in = time.monotonic() - t0
    assert blocker.args == ["cancelled"]
    assert stopped_in < 5.0  # the child stops at the next batch, or is terminated after 2 s
    assert "active model is unchanged" in tab.status_label.text() and "tiny-test-model" in tab.status_label.text()
    assert tree_digest(active_pointer_path(), chosen) == before
    assert not [p for p in user_models_dir().rglob("manifest.json") if chosen not in p.parents]
    assert tab.start_button.isEnabled() and not tab.use_button.isEnabled()


def test_a_failed_run_says_why_and_changes_nothing(tab, qtbot, tmp_path):
    from ser_engine.models import active_choice

    data = make_mini_dataset(tmp_path / "data", actors=(1, 2), per_emotion=1)
    assert scan(qtbot, tab, data)
    tab.set_preset("quick")
    shutil.rmtree(data)  # e.g. the USB drive was unplugged after the summary was shown
    with qtbot.waitSignal(tab.run_finished, timeout=LONG) as blocker:
        tab.start()
    assert blocker.args == ["failed"]
    status = tab.status_label.text()
    assert "Training failed" in status and str(data) in status and "not a folder" in status
    assert "active model is unchanged" in status and active_choice() is None


def test_a_crash_of_the_training_process_leaves_the_window_standing(tab, qtbot, tmp_path):
    import os
    import signal

    from ser_engine.models import active_choice

    data = make_mini_dataset(tmp_path / "data", actors=(1, 2), per_emotion=1)
    assert scan(qtbot, tab, data)
    tab.set_preset("quick")
    tab.extra_overrides = {**TINY, "epochs": 200, "patience": 200}
    with qtbot.waitSignal(tab._runner.progress, timeout=LONG, check_params_cb=lambda e: "epoch" in e):
        tab.start()
    with qtbot.waitSignal(tab.run_finished, timeout=30000) as blocker:
        os.kill(tab._runner._job._process.pid, signal.SIGKILL)  # as the kernel's OOM killer would
    assert blocker.args == ["failed"]
    assert "ended unexpectedly" in tab.status_label.text() and "active model is unchanged" in tab.status_label.text()
    assert active_choice() is None and tab.start_button.isEnabled()


def test_a_folder_that_is_not_ravdess_gets_a_clear_message_and_no_start(tab, qtbot, tmp_path):
    folder = tmp_path / "my recordings"
    folder.mkdir()
    for i, f in enumerate(ravdess_files([1], emotions=[3, 4], per_emotion=1)):
        shutil.copy(f, folder / f"interview {i}.flac")
    (folder / "notes.txt").write_text("hello")
    assert scan(qtbot, tab, folder) is False
    text = tab.summary_text()
    assert "cannot be used for training" in text and "no RAVDESS speech files found" in text
    assert "03-01-05-01-02-01-12.wav" in text  # what a RAVDESS name looks like
    assert not tab.start_button.isEnabled()
    assert tab.start() is False and not tab.is_running()


def test_too_few_actors_for_the_folds_is_said_before_starting(tab, qtbot, tmp_path):
    data = make_mini_dataset(tmp_path / "data", actors=(1, 2), per_emotion=1)
    assert scan(qtbot, tab, data)
    tab.set_preset("full")
    assert not tab.start_button.isEnabled()
    assert "needs at least 5 actors" in tab.status_label.text()
    tab.set_preset("quick")
    assert tab.start_button.isEnabled()
    assert "needs at least" not in tab.status_label.text()  # before: the warning stayed


def _run_on_disk(name, model_id, accuracy):
    """A finished run in the user's models folder as training writes it (the shipped bundle's
    files, with this run's id and figures) and its report."""
    from ser_engine.models import user_models_dir
    from ser_engine.paths import shipped_model_dir
    from tests.desktop.test_train_views import fake_report

    run = user_models_dir() / name
    shutil.copytree(shipped_model_dir(), run / "model")
    manifest = json.loads((run / "model" / "manifest.json").read_text())
    manifest["model_id"] = model_id
    for mode in manifest["evaluation"]["modes"].values():
        mode["accuracy"]["mean"] = accuracy
    (run / "model" / "manifest.json").write_text(json.dumps(manifest))
    report = fake_report()
    report["model_id"] = model_id
    (run / "report.json").write_text(json.dumps(report))
    return run


def test_a_weaker_model_is_used_only_if_the_user_agrees(tab):
    from ser_engine.models import active_choice
    from ser_engine.paths import shipped_model_dir

    run = _run_on_disk("20261202-100000-full", "weak-model", 0.31)
    tab.refresh_models()
    assert tab.choose_model(run / "model")
    tab._dialogs.answer = False
    assert tab.use_model() is False and active_choice() is None  # before: switched without asking
    kind, _, question = tab._dialogs.asked[-1]
    shipped = json.loads((shipped_model_dir() / "manifest.json").read_text())["evaluation"]["modes"]
    in_use = shipped["global"]["accuracy"]["mean"]  # the model in use: the shipped one, alone
    assert kind == "confirm" and "31.0% alone" in question and f"{in_use:.1%} alone" in question
    tab._dialogs.answer = True
    assert tab.use_model() is True and active_choice() == (run / "model").resolve()


def test_a_trained_model_can_be_chosen_again_after_a_revert_and_a_restart(qtbot, tab):
    from desktop.train_tab import TrainTab
    from ser_engine.models import active_choice

    run = _run_on_disk("20261202-110000-full", "kept-model", 0.70)
    tab.refresh_models()
    assert tab.choose_model(run / "model") and tab.use_model()
    tab.revert_model()
    again = TrainTab(dialogs=FakeDialogs())  # a restart
    qtbot.addWidget(again)
    listed = [again.models_combo.itemText(i) for i in range(again.models_combo.count())]
    assert any("kept-model" in t and "70.0% alone" in t for t in listed)  # before: gone from the app
    assert again.choose_model(run / "model")
    assert again.report_view.report()["model_id"] == "kept-model"  # its report is shown again
    assert again.use_button.isEnabled() and again.use_model()
    assert active_choice() == (run / "model").resolve()
    again.shutdown()


def test_a_dask_scheduler_address_is_checked_given_to_the_run_and_remembered(tab, qtbot, tmp_path, monkeypatch):
    """The advanced option: the run itself on a cluster is tests/training/test_distributed's."""
    from PySide6.QtCore import QSettings

    from desktop.train_tab import READY, TrainTab

    data = make_mini_dataset(tmp_path / "data", actors=(1, 2), per_emotion=1)
    assert scan(qtbot, tab, data)
    tab.set_preset("quick")
    started = []
    monkeypatch.setattr(tab._runner, "start", started.append)
    assert tab.start_button.isEnabled() and tab.scheduler() == ""
    tab.scheduler_edit.setText("foo:8786")
    assert not tab.start_button.isEnabled()
    assert "foo:8786: not a Dask scheduler address like tcp://HOST:PORT" in tab.start_button.toolTip()
    tab.scheduler_edit.setText(" tcp://10.0.0.5:8786 ")
    assert tab.start_button.isEnabled() and tab.start()
    assert started[-1]["scheduler"] == "tcp://10.0.0.5:8786"
    assert "on the Dask cluster at tcp://10.0.0.5:8786" in tab.log_view.toPlainText()
    assert not tab.scheduler_edit.isEnabled()  # not changed under a running run
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    tab.save_state(settings)
    again = TrainTab(cache_root=tmp_path / "cache", dialogs=FakeDialogs())
    qtbot.addWidget(again)
    again.restore_state(settings)
    assert again.scheduler() == "tcp://10.0.0.5:8786"
    again.shutdown()
    # empty: this computer, no address in the run's parameters
    tab._state = READY  # as when the run ends
    tab.scheduler_edit.setText("")
    assert tab.start() and "scheduler" not in started[-1]


def test_start_and_the_run_s_outcome_are_on_a_1366x768_screen_without_scrolling(make_window, qtbot):
    """The left column scrolls; on a laptop screen Start, the progress and the line that says how
    the run ended must be in view (the folder's summary asked for 192 px and pushed them out)."""
    window = make_window()
    window.resize(1366, 768 - 40)  # the title bar
    window.tabs.setCurrentIndex(window.tabs.indexOf(window.train_tab))
    tab = window.train_tab
    tab.status_label.setText("Finished: the report and the model are in the list below")
    qtbot.waitUntil(lambda: tab.status_label.isVisible())
    viewport = tab._left_scroll.viewport()
    for widget in (tab.start_button, tab.progress, tab.phase_label, tab.status_label):
        top = widget.mapTo(viewport, widget.rect().topLeft()).y()
        bottom = widget.mapTo(viewport, widget.rect().bottomLeft()).y()
        assert 0 <= top and bottom < viewport.height(), (widget, top, bottom, viewport.height())
