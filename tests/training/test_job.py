"""Cancelling feature extraction, and where runs are written (the child process itself is
driven end to end by tests/desktop/test_train_tab.py)."""

import pytest

from ser_engine.errors import TrainingCancelled
from ser_engine.features import FeatureConfig
from tests.conftest import ravdess_files, requires_data
from training.cache import FeatureCache, extract_features
from training.job import new_run_dir


@requires_data
def test_a_cancel_stops_extraction_after_the_current_file_and_keeps_what_was_cached(tmp_path):
    paths = ravdess_files([1], emotions=[1, 2, 3], per_emotion=2)
    cache = FeatureCache(FeatureConfig(), tmp_path / "cache")
    polls = []

    def stop():
        polls.append(1)
        return len(polls) >= 2

    with pytest.raises(TrainingCancelled, match="active model is unchanged"):
        extract_features(paths, config=cache.config, cache=cache, workers=1, should_stop=stop)
    assert len(polls) == 2  # polled after each file; stopped after the second
    _, _, n_cached = extract_features(paths, config=cache.config, cache=cache, workers=1)
    assert n_cached == 2


def test_each_run_gets_its_own_folder(tmp_path):
    first = new_run_dir("full", tmp_path)
    first.mkdir()
    second = new_run_dir("full", tmp_path)
    assert second != first and second.parent == tmp_path and second.name.startswith(first.name)
    assert first.name.endswith("-full")


def _dead_pid():
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_killed_run_leaves_no_folder_behind(tmp_path):
    """A run killed while writing its bundle (in the TFLite conversion, say) left a temporary
    folder in its run directory while the Train tab said nothing was written."""
    from training.job import discard_partial_output

    out = tmp_path / "20261124-120000-full"
    partial = out / f".model.{_dead_pid()}.x1y2.tmp"
    partial.mkdir(parents=True)
    (partial / "model.keras").write_bytes(b"half")
    assert discard_partial_output(out) and not out.exists()
    assert discard_partial_output(tmp_path / "never-created")


def test_complete_files_and_live_writers_are_kept(tmp_path):
    import os

    from training.job import discard_partial_output

    out = tmp_path / "run"
    out.mkdir()
    (out / "report.json").write_text("{}")
    (out / f".model.{_dead_pid()}.abc.tmp").mkdir()
    live = out / f".curves.png.{os.getpid()}.def.tmp"
    live.write_bytes(b"being written")
    assert not discard_partial_output(out)
    assert sorted(p.name for p in out.iterdir()) == sorted([live.name, "report.json"])


def _stubborn_child(ready):
    """A training child stuck where SIGTERM does nothing (a handler that ignores it)."""
    import os
    import signal
    import time

    os.setpgrp()  # as child_main does, so the whole group can be signalled
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ready.set()
    time.sleep(60)


def test_terminate_blocks_the_caller_well_under_a_second_more_than_the_kill(tmp_path):
    """terminate() runs on the GUI thread; it waited 2 s after a SIGTERM that was ignored."""
    import multiprocessing
    import time

    from training.job import TrainingProcess

    job = TrainingProcess({"out_dir": str(tmp_path / "run")})
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    job._process = ctx.Process(target=_stubborn_child, args=(ready,))
    job._process.start()
    assert ready.wait(30)
    t0 = time.perf_counter()
    job.terminate()
    assert not job.is_alive() and time.perf_counter() - t0 < 1.2
