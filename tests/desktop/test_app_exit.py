"""The ``ser-studio`` process itself: exit codes and the installation self-tests."""

import os
import subprocess
import sys

import pytest

from tests.conftest import DATA, REPO

ORIGINALS = DATA / "ravdess-original-48k"
requires_originals = pytest.mark.skipif(not ORIGINALS.is_dir(), reason=f"no RAVDESS originals at {ORIGINALS}")
pytestmark = pytest.mark.gui  # each test starts the app in a process of its own


def _run(args, tmp_path, timeout=300):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SER_STUDIO_HOME=str(tmp_path / "home"))
    return subprocess.run([sys.executable, "-m", "desktop", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env=env)


@requires_originals
def test_the_app_exits_0_after_labelling_a_file(tmp_path):
    # Regression: the interpreter's teardown aborted (SIGABRT, exit 134, "bool_dealloc") once a
    # file had been labelled with the shipped model.
    wav = sorted((ORIGINALS / "Actor_01").glob("*.wav"))[0]
    proc = _run(["--quit-when-idle", str(wav)], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Fatal Python error" not in proc.stderr


@requires_originals
def test_selftest_labels_every_bundled_sample(tmp_path):
    proc = _run(["--selftest"], tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    n = len(list(ORIGINALS.rglob("*.wav")))
    assert f"selftest: {n}/{n} samples labelled" in proc.stdout
    lines = [line for line in proc.stdout.splitlines() if line.endswith(tuple("0123456789")) and "\t" in line]
    assert len(lines) == n and all(line.split("\t")[1] != "FAILED" for line in lines)


@requires_originals
@pytest.mark.slow
def test_selftest_train_trains_and_labels(tmp_path):
    proc = _run(["--selftest-train"], tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "selftest-train: trained on 18 samples" in proc.stdout and "-> OK" in proc.stdout
    # the temporary training folder is gone; the user folders hold no model
    assert not (tmp_path / "home" / "data" / "models").exists()
