"""All training settings in one object, stored in the bundle and the report."""

import dataclasses

from ser_engine.features import FeatureConfig
from ser_engine.frontend import FrontEndConfig
from ser_engine.inference import WindowConfig


def trained_noise_snrs(manifest):
    """The SNRs (dB) of the noisy copies a bundle was trained with: () for a bundle trained
    without them, or before the field existed."""
    return tuple(manifest.get("training", {}).get("config", {}).get("noise_snrs") or ())


def snr_phrase(snrs):
    """``(20, 10)`` -> ``"20 and 10"``, for the texts that name the noise levels."""
    return " and ".join(f"{s:g}" for s in snrs)


@dataclasses.dataclass
class TrainConfig:
    # the shipped recipe (bench_honest measured it; the Train tab's "Full"): an ensemble of 3 per fold,
    # at most 40 epochs, early stopping on validation actors after 6 without improvement
    epochs: int = 40            # upper bound; early stopping on validation actors decides
    patience: int = 6           # epochs without validation improvement before stopping
    batch_size: int = 32
    learning_rate: float = 1e-3
    folds: int = 5              # speaker-independent folds (by actor)
    val_actors: int = 2         # actors held out of each training set for early stopping
    seed: int = 0
    speaker_mix: float = 0.75   # share of training windows normalised by speaker baseline (BENCHMARKS.md)
    # of those, the share whose baseline is a skewed subset of the speaker's clips (a sad-only session, an
    # enrolment...), so the model reads speech against a baseline that is itself emotional (BENCHMARKS.md)
    skewed_baselines: float = 0.5
    speaker_scale: str = "global"  # a baseline's spread: the training data's ("global": centre only) or the speaker's
    time_masks: int = 2         # SpecAugment: masks per window ...
    time_mask_frames: int = 20
    freq_masks: int = 2
    freq_mask_bins: int = 8
    conv_filters: int = 128
    lstm_units: int = 64
    dropout: float = 0.3
    lstm_layers: int = 1        # BiLSTM layers (residual stack above the first)
    pooling: str = "attention"  # over time: "attention" (learned weights), "mean", or "attention_stats"
    label_smoothing: float = 0.05
    aux_weight: float = 0.0     # loss weight of the intensity and speaker-sex heads; 0 = no heads
    input_noise: float = 0.0    # std of Gaussian noise added to normalised inputs in training
    mixup: float = 0.0          # Beta(a, a) mixup of windows and labels; 0 = off
    # share of each training target taken from a pooled-encoder teacher (training.teacher), the rest
    # the one-hot label; 0 = off. The teacher needs the recordings' encoder states, whatever the front end,
    # and at least 2 actors in every training set (training.pipeline switches it off below that).
    # Adopted by bench_honest's rule (both_distill over both_skew, BENCHMARKS.md)
    distill: float = 0.5
    weight_decay: float = 0.0   # AdamW decoupled weight decay; 0 = Adam
    speeds: tuple = (0.9, 1.1)  # speed-perturbed copies of each training recording (augmentation)
    noise_snrs: tuple = (20, 10)  # copies with white noise at these SNRs (dB): adopted by the room rule (BENCHMARKS.md)
    pitch_steps: tuple = ()     # copies shifted by these semitones at the same tempo (lever; BENCHMARKS.md)
    channels: tuple = ()        # copies through training.cache.CHANNELS ("telephone", "room"; levers)
    # models trained with different seeds and averaged in one model; 3 adopted by bench_honest's rule
    # (both_distill_ens3 over both_distill on seeds 0 and 1, BENCHMARKS.md); the "One model" preset: 1
    ensemble: int = 3
    workers: int = 2            # feature-extraction processes
    feature: FeatureConfig = dataclasses.field(default_factory=FeatureConfig)
    #: what the model reads: classic frames, the speech encoder's, or both (ser_engine.frontend);
    #: with the encoder, 50 frames per second, so the window is given in those frames
    front_end: FrontEndConfig = dataclasses.field(default_factory=lambda: FrontEndConfig("both"))
    window: WindowConfig | None = None  # default: 3 s every 1 s on the front end's grid

    def __post_init__(self):
        # settings read back from a report or a job's message arrive as dicts
        if isinstance(self.front_end, dict):
            self.front_end = FrontEndConfig.from_dict(self.front_end)
        if isinstance(self.feature, dict):
            self.feature = FeatureConfig.from_dict(self.feature)
        if isinstance(self.window, dict):
            self.window = WindowConfig.from_dict(self.window)
        for name in ("speeds", "noise_snrs", "pitch_steps", "channels"):
            setattr(self, name, tuple(getattr(self, name)))
        if self.window is None:
            step = self.front_end.step
            self.window = WindowConfig(length=300 // step, hop=100 // step)

    @property
    def n_inputs(self):
        """Values per model frame."""
        return self.front_end.n_features(self.feature)

    def to_dict(self):
        d = dataclasses.asdict(self)
        return d

    @classmethod
    def quick(cls, **overrides):
        """A short run to check a folder and the pipeline: few epochs, no k-fold report."""
        base: dict = {"epochs": 8, "patience": 4, "folds": 0, "ensemble": 1}
        base.update(overrides)
        return cls(**base)
