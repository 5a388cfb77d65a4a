"""Feature normalisation: global (training statistics) or speaker baseline.

A speaker baseline is the mean and spread of one speaker's speech frames, taken from
a group of that speaker's recordings, a reference, or one long recording
(:mod:`ser_engine.baseline` decides which, and refuses one from too little speech).
Normalising by it removes what is constant about the voice (pitch range, timbre,
microphone) and leaves what changes with emotion — when the speech it is taken from is
balanced; BENCHMARKS.md ("Speaker baselines ... under the honest protocol") has what it
does when it is not.
"""

import dataclasses

import numpy as np

MODES = ("global", "speaker")
_STD_FLOOR = 1e-3


@dataclasses.dataclass(frozen=True)
class FeatureStats:
    """Per-feature mean and standard deviation.

    Attributes
    ----------
    mean, std : np.ndarray [shape=(n_features,), dtype=float32]
    n_frames : int
        Frames the statistics were computed from.
    """

    mean: np.ndarray
    std: np.ndarray
    n_frames: int = 0

    def to_dict(self):
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "n_frames": int(self.n_frames)}

    @classmethod
    def from_dict(cls, data):
        return cls(np.asarray(data["mean"], np.float32), np.asarray(data["std"], np.float32),
                   int(data.get("n_frames", 0)))


def apply_stats(X, stats):
    """Standardise features.

    Parameters
    ----------
    X : np.ndarray [shape=(..., n_features)]
    stats : FeatureStats

    Returns
    -------
    Z : np.ndarray [shape=X.shape, dtype=float32]
    """
    return ((X - stats.mean) / stats.std).astype(np.float32)


def masked_stats(feature_list, mask_list, *, chunk=20000):
    """Mean and standard deviation over the masked frames of several feature arrays.

    The speaker baseline of a long recording: its frames arrive as the feature arrays of its
    speech regions, with the recording-wide speech mask of each (a region's own loudest
    frames would be the wrong reference). Summed in float64 ``chunk`` frames at a time, so
    memory stays at the size of the features themselves.

    Parameters
    ----------
    feature_list : sequence of np.ndarray [shape=(frames_i, n_features)]
    mask_list : sequence of np.ndarray [shape=(frames_i,), dtype=bool]

    Returns
    -------
    stats : FeatureStats

    Raises
    ------
    ValueError
        When no frame is selected.
    """
    def frames():
        for X, mask in zip(feature_list, mask_list, strict=True):
            for a in range(0, len(X), chunk):
                yield X[a:a + chunk][np.asarray(mask[a:a + chunk], bool)]

    return _stats_of(frames())


def _stats_of(blocks):
    """Mean and standard deviation over the rows of ``blocks`` (arrays of frames), summed in
    float64 one block at a time; ValueError when there are no rows."""
    total = total_sq = None
    count = 0
    for rows in blocks:
        if not len(rows):
            continue
        rows = rows.astype(np.float64, copy=False)
        s, sq = rows.sum(axis=0), (rows * rows).sum(axis=0)
        total = s if total is None else total + s
        total_sq = sq if total_sq is None else total_sq + sq
        count += len(rows)
    if not count or total is None or total_sq is None:
        raise ValueError("no frames to compute statistics from")
    mean = np.asarray(total / count)
    var = np.maximum(total_sq / count - mean * mean, 0.0)
    std = np.maximum(np.sqrt(var), _STD_FLOOR)
    return FeatureStats(mean.astype(np.float32), std.astype(np.float32), count)
