"""The Train tab's choices: named training settings, each a :class:`TrainConfig`.

"Full" is the k-fold report plus the final model with one model per fold: the shipped model's
recipe (classic and speech-encoder frames, skewed baselines, half of each training target from a
pooled-encoder teacher; chosen and measured by ``bench_honest``). "Thorough" trains an ensemble
of three per fold for longer, which helped the classic recipe (BENCHMARKS.md, "Accuracy levers")
and has not been measured with the speech encoder. The figures of each are in BENCHMARKS.md
(``bench_training``, ``bench_rebuild``).
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
        "The shipped model's recipe. 5-fold speaker-independent report, then the final model: one model, "
        "up to 40 epochs, patience 6, speed perturbation and noisy copies, classic and speech-encoder frames, "
        "trained half towards a teacher on the speech encoder's summary of each recording "
        "(37 min for 1,200 files on a shared 2-core machine, 21 of them for the speech encoder on the files and "
        "their copies; a second run on the same folder reuses them).",
        dict()),
    "thorough": Preset(
        "thorough", "Thorough (ensemble of 3)",
        "As Full, with an ensemble of 3 per fold, up to 60 epochs and patience 12: about three times Full's "
        "training time (the speech encoder's part is the same). It helped the classic recipe; with the speech "
        "encoder it has not been measured.",
        dict(ensemble=3, epochs=60, patience=12)),
}
DEFAULT_PRESET = "full"
