"""The Train tab's presets say what they train."""

import json
from pathlib import Path

from training.config import TrainConfig
from training.presets import DEFAULT_PRESET, PRESETS

REPO = Path(__file__).resolve().parents[2]


def test_full_is_the_shipped_bundles_recipe_and_the_default():
    shipped = json.loads((REPO / "resources" / "model" / "manifest.json").read_text())["training"]["config"]
    full = PRESETS["full"].config().to_dict()
    assert DEFAULT_PRESET == "full" and full == TrainConfig().to_dict()
    # everything that shapes the model is the shipped bundle's (workers only spread the work)
    for key in ("ensemble", "epochs", "patience", "distill", "speeds", "noise_snrs", "front_end", "window",
                "skewed_baselines", "speaker_mix"):
        assert json.loads(json.dumps(full[key])) == shipped[key], key
    assert f"an ensemble of {full['ensemble']}" in PRESETS["full"].description


def test_each_preset_says_how_many_models_a_fold_trains():
    assert PRESETS["one"].config().ensemble == 1 and "one model per fold" in PRESETS["one"].description
    assert PRESETS["thorough"].config().ensemble == PRESETS["full"].config().ensemble
    assert PRESETS["thorough"].config().patience > PRESETS["full"].config().patience
    assert PRESETS["quick"].config().folds == 0
