"""Privacy: the logs hold no audio, features or results, and no code of the project can talk to
the network (no telemetry, no update check)."""

import ast
import logging

import numpy as np
import pytest

from ser_engine import EMOTIONS
from tests.conftest import REPO, ravdess_files, requires_data
from tests.reliability.badinputs import CASES

PACKAGES = ("ser_engine", "training", "desktop")
NETWORK_MODULES = {"socket", "ssl", "http", "urllib", "urllib3", "requests", "httpx", "aiohttp", "ftplib",
                   "smtplib", "xmlrpc", "websocket", "websockets", "PySide6.QtNetwork", "PySide6.QtWebEngineCore",
                   "PySide6.QtWebEngineWidgets"}


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)


def test_no_module_of_the_project_imports_a_network_library():
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            for name in _imports(path):
                if name in NETWORK_MODULES or name.split(".")[0] in NETWORK_MODULES:
                    found.append(f"{path.relative_to(REPO)}: {name}")
    assert found == [], "network code in the app (telemetry? update check?): " + "; ".join(found)


def _assert_private(records, result_texts):
    for r in records:
        for arg in (r.args if isinstance(r.args, tuple) else (r.args,)) or ():
            assert not isinstance(arg, (np.ndarray, list, dict)), f"a container was logged: {r.getMessage()[:200]}"
        message = r.getMessage()
        assert len(message) < 1000, f"a long log message: {message[:200]}…"
        for text in result_texts:
            assert text not in message, f"a result in the log: {message}"


@requires_data
def test_analysis_logs_no_audio_features_or_results(tmp_path, caplog):
    from ser_engine.predictor import Predictor

    import shutil

    from ser_engine.batch import run_batch
    from ser_engine.review import for_timeline, save_review
    from ser_engine.segments import analyse_recording

    folder = tmp_path / "in"
    folder.mkdir()
    bad = [c.build(folder) for c in CASES if c.refused and c.name != "x.wav"]
    good = [shutil.copy(f, folder / f.name) for f in ravdess_files([10], emotions=[2, 5], per_emotion=1)]
    with caplog.at_level(logging.DEBUG):
        predictor, _ = Predictor.from_path()
        results = list(predictor.predict_many([*good, *bad]))
        results += predictor.predict_group(good)
        timelines = [analyse_recording(predictor, g) for g in good]
        review = for_timeline(timelines[0])
        review.set_label(timelines[0].segments[0].start, timelines[0].segments[0].end, "sad")
        save_review(review)
        report = run_batch(folder, tmp_path / "out.csv", progress=False)
    assert sum(r.ok for r in results) == 4 and report.done == 2 and report.failed == len(bad)
    results += timelines
    texts = []
    for r in results:
        if r.ok:
            texts += [f"{r.confidence:.2f}", f"{r.confidence:.3f}", repr(r.probabilities)]
    _assert_private(caplog.records, texts)
    assert not any(e in r.getMessage() for r in caplog.records for e in EMOTIONS if r.levelno >= logging.INFO)


@pytest.mark.slow
@requires_data
def test_the_app_log_holds_no_results(tmp_path):
    """The app's own log file, after labelling files (the real ``ser-studio`` process)."""
    import os
    import subprocess
    import sys

    files = [str(f) for f in ravdess_files([10], emotions=[3], per_emotion=1)] + [str(CASES[4].build(tmp_path))]
    home = tmp_path / "home"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SER_STUDIO_HOME=str(home))
    proc = subprocess.run([sys.executable, "-m", "desktop", "--quit-when-idle", *files], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    logs = list((home / "logs").glob("*.log"))
    assert logs, "the app writes its log under the user log folder"
    text = "".join(p.read_text(encoding="utf-8") for p in logs)
    for emotion in EMOTIONS:
        assert f" {emotion} " not in text and f"'{emotion}'" not in text
