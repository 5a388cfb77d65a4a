"""The Train tab's choices: named training settings, each a :class:`TrainConfig`.

"Full" is the k-fold report plus the final model: the shipped model's recipe (classic and
speech-encoder frames, skewed baselines, half of each training target from a pooled-encoder
teacher, an ensemble of 3 per fold; chosen and measured by ``bench_honest``). "One model per
fold" is the same recipe without the ensemble: less training time, measurably less accuracy.
"Thorough" trains Full's ensembles for longer, which helped the classic recipe (BENCHMARKS.md,
"Accuracy levers") and has not been measured with the speech encoder. The figures of each are in
BENCHMARKS.md (``bench_training``, ``bench_honest``, ``bench_rebuild``).
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
    "one": Preset(
        "one", "One model per fold (faster)",
        "Full's recipe with one model per fold instead of an ensemble of 3: the shipped model's recipe until "
        "2026-12-04, 2.2 points lower on validation actors (bench_honest). 8.6 min for 1,200 files on this "
        "2-core machine from a warm cache (the speech encoder's states of an earlier run; a first run adds "
        "about 21 min for them).",
        dict(ensemble=1)),
    "full": Preset(
        "full", "Full (k-fold report + model)",
        "The shipped model's recipe. 5-fold speaker-independent report, then the final model: an ensemble of 3, "
        "each up to 40 epochs with patience 6, speed perturbation and noisy copies, classic and speech-encoder "
        "frames, trained half towards a teacher on the speech encoder's summary of each recording "
        "(38.6 min for 1,200 files on this 2-core machine from a warm cache, the features and speech-encoder "
        "states of an earlier run; a first run on a folder adds about 21 min for the speech encoder over the "
        "files and their copies).",
        dict()),
    "thorough": Preset(
        "thorough", "Thorough (longer training)",
        "As Full, with up to 60 epochs and patience 12 for each model: longer than Full. It helped the classic "
        "recipe; with the speech encoder it has not been measured.",
        dict(ensemble=3, epochs=60, patience=12)),
}
DEFAULT_PRESET = "full"
