"""The light runtime: model.tflite through LiteRT and the stored filter banks must give
the answers of model.keras and librosa, and a bundle without them must still work."""

import json
import logging
import shutil
import subprocess
import sys

import numpy as np
import pytest

from ser_engine.bundle import FILTERS_FILE, TFLITE_FILE, load_bundle
from ser_engine.errors import ModelLoadError
from ser_engine.features import compute_features, filter_banks
from ser_engine.inference import run_model
from ser_engine.litert import LiteRTModel
from ser_engine.paths import shipped_model_dir
from ser_engine.predictor import Predictor
from tests.conftest import REPO, ravdess_files, requires_data

pytestmark = requires_data


def _without_runtime_files(src, dest):
    shutil.copytree(src, dest)
    manifest = json.loads((dest / "manifest.json").read_text())
    for name in (TFLITE_FILE, FILTERS_FILE):
        (dest / name).unlink()
        del manifest["files"][name]
    (dest / "manifest.json").write_text(json.dumps(manifest))
    return dest


def test_litert_equals_keras_on_the_tiny_bundle(tiny_bundle, rng):
    bundle = load_bundle(tiny_bundle)
    assert {TFLITE_FILE, FILTERS_FILE} <= set(bundle.files)
    keras_model = bundle.load_keras_model()
    lite = bundle.load_inference_model()
    assert isinstance(lite, LiteRTModel)
    assert lite.input_shape == keras_model.input_shape and lite.output_shape == keras_model.output_shape
    x = rng.standard_normal((11,) + tuple(keras_model.input_shape[1:])).astype(np.float32)
    for batch_size in (4, 16):  # padded batches, and a batch larger than the data
        np.testing.assert_allclose(run_model(lite, x, batch_size=batch_size),
                                   run_model(keras_model, x, batch_size=batch_size), atol=1e-5, rtol=0)
    assert run_model(lite, x[:0], batch_size=4).shape == (0, 8)


def test_stored_filter_banks_equal_librosa(tiny_bundle):
    for path in (tiny_bundle, shipped_model_dir()):
        bundle = load_bundle(path)
        mel, chroma = bundle.filter_banks()
        ref_mel, ref_chroma = filter_banks(config=bundle.feature_config)
        assert mel.dtype == chroma.dtype == np.float32
        np.testing.assert_array_equal(mel, ref_mel)
        np.testing.assert_array_equal(chroma, ref_chroma)


def test_features_with_injected_banks_equal_librosa_banks(rng):
    from ser_engine.features import FeatureConfig

    cfg = FeatureConfig()
    y = (rng.standard_normal(16000) * 0.1).astype(np.float32)
    np.testing.assert_array_equal(compute_features(y, config=cfg, banks=filter_banks(config=cfg)),
                                  compute_features(y, config=cfg))
    with pytest.raises(ValueError, match="do not fit"):
        compute_features(y, config=FeatureConfig(n_mels=40), banks=filter_banks(config=cfg))


def test_a_bundle_without_runtime_files_works_through_keras(tiny_bundle, tmp_path):
    plain = load_bundle(_without_runtime_files(tiny_bundle, tmp_path / "plain"))
    assert plain.filter_banks() is None
    old, new = Predictor(plain), Predictor(load_bundle(tiny_bundle))
    assert not isinstance(old.model, LiteRTModel) and isinstance(new.model, LiteRTModel)
    path = ravdess_files([4], emotions=[5], per_emotion=1)[0]
    a, b = old.predict_file(path), new.predict_file(path)
    assert a.label == b.label
    for k in a.probabilities:
        assert abs(a.probabilities[k] - b.probabilities[k]) < 1e-5


def test_litert_failure_falls_back_to_keras(tiny_bundle, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("no runtime")

    monkeypatch.setattr("ser_engine.litert.LiteRTModel", broken)
    with caplog.at_level(logging.WARNING, logger="ser_engine.bundle"):
        model = load_bundle(tiny_bundle).load_inference_model()
    assert hasattr(model, "predict_on_batch") and not isinstance(model, LiteRTModel)
    assert "using Keras instead" in caplog.text


@pytest.mark.parametrize("name", [TFLITE_FILE, FILTERS_FILE])
def test_tampered_runtime_file_is_refused(tiny_bundle, tmp_path, name):
    dest = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, dest)
    data = bytearray((dest / name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (dest / name).write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match=f"{name} does not match its checksum"):
        load_bundle(dest)


def test_shipped_model_labels_without_tensorflow_or_librosa():
    path = ravdess_files([4], emotions=[5], per_emotion=1)[0]
    code = ("import sys\n"
            "from ser_engine.predictor import Predictor\n"
            "p, _ = Predictor.from_path(None)\n"
            f"r = p.predict_file({str(path)!r})\n"
            "assert r.ok, r\n"
            "print(type(p.model).__name__,\n"
            "      sorted(m for m in ('tensorflow', 'keras', 'librosa') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "LiteRTModel []"


def test_predictor_batch_size_follows_the_runtime(tiny_bundle, tmp_path):
    lite = Predictor(load_bundle(tiny_bundle))
    plain = Predictor(load_bundle(_without_runtime_files(tiny_bundle, tmp_path / "plain")))
    assert (lite.runtime, lite.batch_size) == ("litert", 16)
    assert (plain.runtime, plain.batch_size) == ("keras", 64)
    assert Predictor(load_bundle(tiny_bundle), batch_size=5).batch_size == 5
