"""The analysis window settings and the one way a model is run on windows.

The rest of the labelling (windows of speech regions, smoothing, segments, the recording's
answer) is :mod:`ser_engine.labelling`.
"""

import dataclasses

import numpy as np


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
