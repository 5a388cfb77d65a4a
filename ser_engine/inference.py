"""The model-independent steps between features and a file-level answer.

Shared by the :class:`~ser_engine.predictor.Predictor` and by training's evaluation,
so the figures a bundle reports are computed exactly as the app computes its labels.
"""

import dataclasses

import numpy as np

from .features import speech_mask, speech_span
from .normalise import apply_stats
from .windows import make_windows

_EPS = 1e-7


@dataclasses.dataclass(frozen=True)
class WindowConfig:
    """Analysis windows in frames (100 frames per second at the default hop)."""

    length: int = 300
    hop: int = 100

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(**data)


@dataclasses.dataclass
class PreparedWindows:
    """A recording cut into model windows.

    Attributes
    ----------
    windows : np.ndarray [shape=(n_windows, length, n_features)]
    starts : np.ndarray [shape=(n_windows,)]
        Start frame of each window in the whole recording (may be negative for a short,
        centred recording).
    weights : np.ndarray [shape=(n_windows,)]
        Share of speech frames in each window, used to weight the file-level average.
    span : tuple of int
        First and one-past-last analysed frame.
    """

    windows: np.ndarray
    starts: np.ndarray
    weights: np.ndarray
    span: tuple


def prepare_windows(X, stats, *, config, window):
    """Normalise a feature sequence, trim silence at both ends and cut it into windows.

    Parameters
    ----------
    X : np.ndarray [shape=(frames, n_features)]
        Raw features from :func:`~ser_engine.features.compute_features`.
    stats : FeatureStats
        Global or speaker-baseline statistics.
    config : FeatureConfig
    window : WindowConfig

    Returns
    -------
    prepared : PreparedWindows
    """
    mask = speech_mask(X, config=config)
    lo, hi = speech_span(mask)
    windows, starts = make_windows(apply_stats(X[lo:hi], stats), length=window.length, hop=window.hop)
    m = mask[lo:hi]
    weights = np.empty(len(starts), np.float32)
    for i, s in enumerate(starts):
        seg = m[max(s, 0):max(s, 0) + window.length]
        weights[i] = seg.mean() if len(seg) else 0.0
    if weights.sum() <= 0:
        weights[:] = 1.0
    return PreparedWindows(windows, starts + lo, weights, (lo, hi))


def aggregate(window_probs, weights):
    """File-level logits: the speech-weighted mean of window log-probabilities.

    Parameters
    ----------
    window_probs : np.ndarray [shape=(n_windows, n_classes)]
    weights : np.ndarray [shape=(n_windows,)]

    Returns
    -------
    logits : np.ndarray [shape=(n_classes,)]
    """
    w = np.asarray(weights, np.float64)
    w = w / w.sum()
    return (np.log(np.clip(window_probs, _EPS, 1.0)) * w[:, None]).sum(axis=0)


def softmax(logits, temperature=1.0):
    """Temperature-scaled softmax along the last axis (calibration)."""
    z = np.asarray(logits, np.float64) / float(temperature)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def run_model(model, windows, *, batch_size=64):
    """Window probabilities from a Keras model, in fixed-size batches.

    ``predict_on_batch`` with every batch padded to ``batch_size`` reuses one traced
    function for every call. ``model.predict`` instead builds a tf.data pipeline per call
    and retraces for every new batch shape; that garbage, collected from the GUI thread
    while the worker thread traced, crashed the desktop app (tests/desktop).

    Parameters
    ----------
    windows : np.ndarray [shape=(n, length, n_features)]

    Returns
    -------
    probs : np.ndarray [shape=(n, n_classes)]
    """
    n = len(windows)
    out = []
    for start in range(0, n, batch_size):
        batch = windows[start:start + batch_size]
        k = len(batch)
        if k < batch_size:
            batch = np.concatenate([batch, np.zeros((batch_size - k,) + batch.shape[1:], batch.dtype)])
        out.append(np.asarray(model.predict_on_batch(batch))[:k])
    if not out:
        return np.zeros((0, model.output_shape[-1]), np.float32)
    return np.concatenate(out)
