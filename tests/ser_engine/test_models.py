"""Listing the models: the shipped one and every trained one, with their figures."""

import json
import shutil

import pytest

from ser_engine.models import active_pointer_path, list_models, reset_active, user_models_dir
from ser_engine.paths import shipped_model_dir


def _fake_run(root, name, model_id, modes):
    """A copy of the shipped bundle as a trained run would lay it out, with other figures."""
    bundle = root / name / "model"
    shutil.copytree(shipped_model_dir(), bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["model_id"] = model_id
    manifest["evaluation"] = {"modes": modes} if modes else {"note": "quick check"}
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    (root / name / "report.json").write_text(json.dumps({"model_id": model_id}))
    return bundle


def test_trained_models_are_listed_with_their_figures_newest_first(tmp_path):
    root = user_models_dir()
    _fake_run(root, "20261201-100000-full", "older-full",
              {"global": {"accuracy": {"mean": 0.31}}, "speaker": {"accuracy": {"mean": 0.42}}})
    _fake_run(root, "20261202-090000-quick", "newer-quick", None)
    (root / "not-a-run").mkdir()
    models = list_models()
    assert [m.model_id for m in models[1:]] == ["newer-quick", "older-full"]
    shipped = models[0]
    assert shipped.shipped and shipped.active and shipped.report_path is None
    manifest = json.loads((shipped_model_dir() / "manifest.json").read_text())
    assert shipped.accuracy_alone == pytest.approx(manifest["evaluation"]["modes"]["global"]["accuracy"]["mean"])
    older = models[2]
    assert (older.accuracy_alone, older.accuracy_baseline) == (pytest.approx(0.31), pytest.approx(0.42))
    assert older.figures_text() == "31.0% alone, 42.0% with speaker baseline"
    assert older.report_path == root / "20261201-100000-full" / "report.json"
    assert models[1].accuracy_alone is None and "quick check" in models[1].figures_text()


def test_the_active_mark_follows_the_choice(tmp_path):
    bundle = _fake_run(user_models_dir(), "20261201-100000-full", "mine",
                       {"global": {"accuracy": {"mean": 0.5}}})
    # the edited manifest would fail set_active's hash check: the pointer it writes, by hand
    active_pointer_path().parent.mkdir(parents=True, exist_ok=True)
    active_pointer_path().write_text(json.dumps({"path": str(bundle.resolve())}))
    assert [m.model_id for m in list_models() if m.active] == ["mine"]
    reset_active()
    assert [m.shipped for m in list_models() if m.active] == [True]


def test_an_active_model_from_elsewhere_is_listed_too(tmp_path):
    from ser_engine.models import set_active

    elsewhere = tmp_path / "my bundle"
    shutil.copytree(shipped_model_dir(), elsewhere)
    set_active(elsewhere)
    active = [m for m in list_models() if m.active]
    assert [m.bundle_dir for m in active] == [elsewhere] and not active[0].shipped
