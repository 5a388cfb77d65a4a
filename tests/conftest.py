"""Shared fixtures. Every test runs with its user folders in a temporary SER_STUDIO_HOME,
offscreen Qt and quiet TensorFlow, and never touches the network."""

import atexit
import contextlib
import fcntl
import os
import shutil
import tempfile
from pathlib import Path

os.environ["SER_STUDIO_HOME"] = tempfile.mkdtemp(prefix="ser-test-home-")
atexit.register(shutil.rmtree, os.environ["SER_STUDIO_HOME"], ignore_errors=True)  # each run made a new one
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
SPEECH_16K = DATA / "ravdess-speech-16k"
ORIGINAL_48K = DATA / "ravdess-original-48k"

requires_data = pytest.mark.skipif(not SPEECH_16K.is_dir(), reason=f"RAVDESS data not found at {DATA}")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _fresh_home(tmp_path, monkeypatch):
    """Each test gets its own user-data/cache/log folders."""
    monkeypatch.setenv("SER_STUDIO_HOME", str(tmp_path / "home"))


def ravdess_files(actors, emotions=range(1, 9), per_emotion=2):
    """A few RAVDESS 16 kHz files: ``per_emotion`` per emotion for each actor."""
    out = []
    for a in actors:
        folder = SPEECH_16K / f"Actor_{a:02d}"
        for e in emotions:
            out += sorted(folder.glob(f"03-01-{e:02d}-*.flac"))[:per_emotion]
    return out


def make_mini_dataset(dest, actors=(1, 2, 3), per_emotion=2):
    """Copy a few files of ``actors`` into ``dest/Actor_NN/`` and return ``dest``."""
    for path in ravdess_files(actors, per_emotion=per_emotion):
        target = dest / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return dest


#: Tiny training settings for tests: classic frames (the speech encoder's own tests use
#: tiny_encoder_bundle), no encoder teacher (tests/training/test_teacher.py trains with one), the
#: shipped baseline recipe, 1 s windows every 0.5 s. The window's length
#: is what converting a model for LiteRT costs (its LSTMs unrolled step by step): at 3 s a tiny
#: ensemble took 95 s to convert.
TINY = dict(epochs=2, patience=2, conv_filters=16, lstm_units=8, batch_size=16, workers=1, ensemble=1,
            front_end={"kind": "classic"}, window={"length": 100, "hop": 50}, distill=0.0)


@contextlib.contextmanager
def built_once(tmp_path_factory, name):
    """A folder for a session fixture's product, built by the first test process that needs it
    and read by the others (``make test`` runs two, pytest-xdist): yields ``(folder, built)``
    under a lock, ``built`` True when a process before this one finished it."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, shared by its workers
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        folder, done = root / name, root / name / ".built"
        yield folder, done.exists()
        done.touch()


def _trained_once(tmp_path_factory, name, model_id, **config):
    """The bundle of a tiny run on 3 actors (``TINY`` with ``config``), trained once per test run."""
    if not SPEECH_16K.is_dir():
        pytest.skip(f"RAVDESS data not found at {DATA}")
    with built_once(tmp_path_factory, name) as (root, built):
        if not built:
            from training.config import TrainConfig
            from training.pipeline import run_training

            run_training(make_mini_dataset(root / "data"), root / "out", TrainConfig.quick(**{**TINY, **config}),
                         cache_root=root / "cache", model_id=model_id)
    return root / "out" / "model"


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory):
    """A really trained (tiny, two-epoch) bundle from 3 actors, made once per test run."""
    return _trained_once(tmp_path_factory, "tiny", "tiny-test-model")


@pytest.fixture(scope="session")
def tiny_encoder_bundle(tmp_path_factory):
    """A really trained (tiny) bundle that reads both classic and speech-encoder frames, made
    once per test run with the real encoder (its states of 48 clips)."""
    return _trained_once(tmp_path_factory, "tiny-encoder", "tiny-encoder-model", speeds=(), noise_snrs=(),
                         front_end={"kind": "both"}, speaker_scale="global", skewed_baselines=0.5,
                         window=None)  # the shipped grid: 3 s windows every 1 s at 50 frames per second
