"""The Train tab's choices: named training settings, each a :class:`TrainConfig`.

"Full" is the k-fold report plus the final model, meant for issue 4's time goal (ten minutes for
1,200 files on 2 cores): one model instead of an ensemble of three, fewer epochs and a shorter
patience. It met the goal without noisy copies (6.5 min cold); with them it trains more epochs
before early stopping and took 10.7 min cold, for +5.5 points (BENCHMARKS.md, ``bench_rebuild``).
"Thorough" is the shipped model's recipe (about half an hour).
The figures of each are in BENCHMARKS.md (``bench_rebuild`` and ``bench_training``).
"""

import dataclasses

from .config import TrainConfig


@dataclasses.dataclass(frozen=True)
class Preset:
    key: str
    title: str
    description: str
    overrides: dict

    def config(self, **changes):
        """The TrainConfig of this preset, with the user's ``changes`` (epochs, folds, ...)."""
        return TrainConfig(**{**self.overrides, **changes})


PRESETS = {
    "quick": Preset(
        "quick", "Quick check",
        "A few minutes: one model, 8 epochs, no k-fold report (checks the folder and the pipeline; "
        "the accuracy it prints is optimistic).",
        dict(epochs=8, patience=4, folds=0, ensemble=1)),
    "full": Preset(
        "full", "Full (k-fold report + model)",
        "5-fold speaker-independent report, then the final model: one model, up to 40 epochs, "
        "patience 6, speed perturbation and noisy copies (about 11 min for 1,200 files on an idle 2-core machine, "
        "longer on a busy one; about 4–5 points below Thorough).",
        dict(epochs=40, patience=6, folds=5, ensemble=1)),
    "thorough": Preset(
        "thorough", "Thorough (shipped settings)",
        "The shipped model's recipe: an ensemble of 3 per fold, up to 60 epochs, patience 12, "
        "speed perturbation and noisy copies "
        "(about 33 minutes for 1,200 files on 2 cores).",
        dict()),
}
DEFAULT_PRESET = "full"
