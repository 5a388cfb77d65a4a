import json
import shutil
import zipfile

import pytest

from ser_engine import EMOTIONS
from ser_engine.bundle import FORMAT_VERSION, load_bundle, write_bundle
from ser_engine.errors import ModelLoadError
from ser_engine.models import reset_active, resolve_bundle, set_active
from ser_engine.paths import shipped_model_dir


@pytest.fixture
def bundle_copy(tiny_bundle, tmp_path):
    dest = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, dest)
    return dest


def test_round_trip(tiny_bundle):
    b = load_bundle(tiny_bundle)
    assert b.model_id == "tiny-test-model"
    assert b.labels == EMOTIONS
    assert b.manifest["format_version"] == FORMAT_VERSION
    assert set(b.manifest["files"]) == {"model.keras", "card.md", "model.tflite", "filters.npz"}
    assert b.global_stats.mean.shape == (b.feature_config.n_features,)
    assert set(b.manifest["calibration"]["temperature"]) == {"global", "speaker"}
    assert b.load_keras_model().output_shape == (None, len(EMOTIONS))
    assert "RAVDESS" in b.card and "CC BY-NC-SA 4.0" in b.card


def test_tampered_model_is_refused(bundle_copy):
    model = bundle_copy / "model.keras"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="does not match its checksum"):
        load_bundle(bundle_copy)


def test_tampered_card_is_refused(bundle_copy):
    (bundle_copy / "card.md").write_text("a different card", encoding="utf-8")
    with pytest.raises(ModelLoadError, match="card.md does not match"):
        load_bundle(bundle_copy)


@pytest.mark.parametrize("mutate, message", [
    (lambda m: m.update(format_version=99), "format 99 is not supported"),
    (lambda m: m.pop("labels"), "lacks labels"),
    (lambda m: m["feature_config"].update(bogus=1), "invalid settings"),
])
def test_bad_manifest_is_refused(bundle_copy, mutate, message):
    path = bundle_copy / "manifest.json"
    manifest = json.loads(path.read_text())
    mutate(manifest)
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError, match=message):
        load_bundle(bundle_copy)


def test_manifest_not_json_and_missing_files(bundle_copy, tmp_path):
    (bundle_copy / "model.keras").unlink()
    with pytest.raises(ModelLoadError, match="model.keras is missing"):
        load_bundle(bundle_copy)
    (bundle_copy / "manifest.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        load_bundle(bundle_copy)
    with pytest.raises(ModelLoadError, match="not found"):
        load_bundle(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="not a model bundle"):
        load_bundle(tmp_path / "empty")


def test_zip_bundle_loads(tiny_bundle, tmp_path):
    z = tmp_path / "model.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in tiny_bundle.iterdir():
            zf.write(f, f"bundle/{f.name}")
    b = load_bundle(z)
    assert b.model_id == "tiny-test-model" and b.source == z


def test_failed_write_leaves_the_old_bundle(tiny_bundle, tmp_path, monkeypatch):
    dest = tmp_path / "active"
    shutil.copytree(tiny_bundle, dest)
    before = {f.name: f.read_bytes() for f in dest.iterdir()}

    class Exploding:
        def save(self, path):
            raise RuntimeError("disk full")

    monkeypatch.setattr("ser_engine.bundle._inference_copy", lambda model: model)
    with pytest.raises(RuntimeError):
        write_bundle(dest, model=Exploding(), manifest={}, card="")
    assert {f.name: f.read_bytes() for f in dest.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["active"], "no temporary folder left behind"


def test_active_model_and_fallback(tiny_bundle, bundle_copy):
    assert shipped_model_dir().joinpath("manifest.json").exists()
    b, warning = resolve_bundle()
    assert b.source == shipped_model_dir() and warning is None
    set_active(bundle_copy)
    b, warning = resolve_bundle()
    assert b.model_id == "tiny-test-model" and warning is None
    (bundle_copy / "card.md").write_text("tampered")
    b, warning = resolve_bundle()
    assert b.source == shipped_model_dir()
    assert "could not be used" in warning and "checksum" in warning
    reset_active()
    assert resolve_bundle()[1] is None


def test_a_refused_zip_leaves_no_extracted_folder(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    z = tmp_path / "tampered.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format_version": 1}))
    with pytest.raises(ModelLoadError, match="lacks"):
        load_bundle(z)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_bundle_caught_between_the_renames_of_a_replacement_is_restored(tmp_path):
    # what a kill -9 of write_bundle between its two renames leaves (tests/reliability/test_kill9.py)
    dest = tmp_path / "my model"
    shutil.copytree(shipped_model_dir(), tmp_path / ".my model.old-999999999")
    bundle = load_bundle(dest)
    assert bundle.source == dest and dest.is_dir() and not (tmp_path / ".my model.old-999999999").exists()
