"""Self-tests of an installed SER Studio: ``ser-studio --selftest`` and ``--selftest-train``.

They run the real code paths of the (frozen or source) app on the sample recordings that ship
with it, print what they found, and return an exit code, so ``make dist`` and a clinic's IT can
check an installation without a screen or a dataset:

* ``--selftest`` opens the main window offscreen, queues the samples, waits for the labels and
  prints one line per file. It proves the Qt plugins, the model bundle, LiteRT and the audio
  stack are all inside the package.
* ``--selftest-train`` trains a tiny model on the samples (two actors, one file per emotion
  each), loads the bundle it wrote and labels a sample with it. It proves TensorFlow, Keras,
  librosa and the training package work frozen. Everything goes to a temporary folder.

Neither writes into the installation folder (see ``tests/test_packaging.py``).
"""

import os
import sys
import tempfile
import time
from pathlib import Path

from ser_engine.audio import iter_audio_files
from ser_engine.paths import resources_dir

#: The self-test gives up after this long (a hung analysis must fail the build, not block it).
TIMEOUT_S = 300

#: The tiny model: enough to prove every layer runs, small enough to train in seconds.
TINY_TRAINING = dict(epochs=2, patience=2, conv_filters=16, lstm_units=8, batch_size=16, workers=1,
                     ensemble=1, val_actors=1, speeds=())


def samples_dir():
    """The bundled sample recordings: ``resources/samples`` in the frozen app.

    A source checkout has no copy (the data are never committed); it uses the original
    RAVDESS files beside the repository, the same files ``build.spec`` bundles.
    """
    bundled = resources_dir() / "samples"
    if bundled.is_dir():
        return bundled
    return resources_dir().parent.parent / "shared" / "data" / "ravdess-original-48k"


def sample_files():
    folder = samples_dir()
    files = sorted(iter_audio_files([folder])) if folder.is_dir() else []
    if not files:
        raise SystemExit(f"selftest: no sample recordings found in {folder}")
    return files


def run_selftest(argv0="ser-studio"):
    """Label the samples through the main window, offscreen; 0 when every file got a label."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    files = sample_files()
    app = QApplication.instance() or QApplication([argv0])
    window = MainWindow(restore_queue=False)  # the samples only, never the user's last queue
    started = time.perf_counter()
    outcome = {"code": 2}

    def finish():
        # idle also fires once the model is ready, before the samples are queued
        if not window.is_idle() or len(window.queued_paths()) < len(files):
            return
        outcome["code"] = _report(window, files, time.perf_counter() - started)
        app.exit(outcome["code"])

    def give_up():
        print(f"selftest: no labels after {TIMEOUT_S} s", file=sys.stderr)
        app.exit(2)

    window.idle.connect(finish)
    QTimer.singleShot(0, lambda: window.add_paths([str(f) for f in files]))
    QTimer.singleShot(TIMEOUT_S * 1000, give_up)
    try:
        app.exec()
    finally:
        window.shutdown()
    return outcome["code"]


def _report(window, files, seconds):
    """One line per file; 0 if every sample has a label, 1 otherwise."""
    labelled = 0
    for path in window.queued_paths():
        result = window.result_of(path)
        if result is not None:
            labelled += 1
            print(f"{Path(path).name}\t{result.label}\t{result.confidence:.2f}")
        else:
            print(f"{Path(path).name}\tFAILED\t{window.error_of(path) or window.status_of(path)}")
    ok = labelled == len(files)
    print(f"selftest: {labelled}/{len(files)} samples labelled in {seconds:.1f} s -> {'OK' if ok else 'FAILED'}")
    return 0 if ok else 1


def run_selftest_train():
    """Train a tiny model on the samples, reload it and label one sample; 0 on success."""
    from ser_engine.predictor import Predictor
    from ser_engine.runtime import quiet_tensorflow
    from training.config import TrainConfig
    from training.pipeline import run_training

    quiet_tensorflow()
    files = sample_files()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ser-selftest-") as tmp_name:
        tmp = Path(tmp_name)
        outcome = run_training(samples_dir(), tmp / "out", TrainConfig.quick(**TINY_TRAINING),
                               cache_root=tmp / "cache", model_id="selftest-tiny")
        predictor = Predictor(_load(outcome.bundle_dir))
        result = predictor.predict_file(files[0])
    _kfold_calibration_runs()
    label = getattr(result, "label", None)
    seconds = time.perf_counter() - started
    if not label:
        print(f"selftest-train: the trained model gave no label ({result}) -> FAILED")
        return 1
    print(f"selftest-train: trained on {len(files)} samples, {Path(files[0]).name} -> {label} "
          f"in {seconds:.1f} s -> OK")
    return 0


def _kfold_calibration_runs():
    """The k-fold report's "uncertain" threshold uses scikit-learn, which the quick run above
    (two actors: too few for folds) never imports: fit it once here, so a package missing it
    fails this self-test rather than a clinic's first full training."""
    import numpy as np

    from training.metrics import uncertain_threshold

    probs = np.eye(8)[[0, 1, 2, 3]] * 0.9 + 0.0125
    assert 0.0 <= uncertain_threshold(probs, np.array([0, 1, 2, 4])) <= 1.0


def _load(bundle_dir):
    from ser_engine.bundle import load_bundle
    return load_bundle(bundle_dir)
