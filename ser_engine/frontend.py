"""What the model reads: classic frames, pretrained-encoder frames, or both, on one time grid.

A bundle's manifest says which (``front_end``), so a model is never fed frames it was not
trained on:

- ``"classic"``: the 119 classic features per 10 ms (:mod:`ser_engine.features`), 100 model
  frames per second.
- ``"encoder"``: Whisper tiny.en's encoder states (:mod:`ser_engine.encoder`), 384 values per
  20 ms, 50 model frames per second.
- ``"both"``: per 20 ms, the mean of the two classic frames in it beside the encoder state
  (119 + 384 values).

Speech regions are found on the 10 ms grid and, for a 20 ms front end, widened to even frame
boundaries, so a model frame never straddles a region's edge and a region's frames, states
and windows line up the same way in training and in the app.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .encoder import DIM

KINDS = ("classic", "encoder", "both")


@dataclasses.dataclass(frozen=True)
class FrontEndConfig:
    kind: str = "classic"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown front end {self.kind!r} (one of {', '.join(KINDS)})")

    @property
    def step(self) -> int:
        """Classic (10 ms) frames per model frame."""
        return 1 if self.kind == "classic" else 2

    @property
    def uses_encoder(self) -> bool:
        return self.kind != "classic"

    def n_features(self, feature_config) -> int:
        classic = feature_config.n_features
        return {"classic": classic, "encoder": DIM, "both": classic + DIM}[self.kind]

    def rate(self, feature_config) -> float:
        """Model frames per second."""
        return feature_config.frame_rate / self.step

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d):
        return cls(**(d or {}))


def pair_means(X):
    """Means of consecutive pairs of frames (a last odd frame alone).

    Parameters
    ----------
    X : np.ndarray [shape=(frames, d)]

    Returns
    -------
    Y : np.ndarray [shape=(ceil(frames / 2), d), dtype=float32]
    """
    n = len(X)
    out = np.empty(((n + 1) // 2, X.shape[1]), np.float32)
    out[:n // 2] = (X[0:n - n % 2:2] + X[1:n - n % 2:2]) / 2
    if n % 2:
        out[-1] = X[-1]
    return out


def model_frames(front_end, classic, states=None):
    """A region's model frames from its classic frames and (encoder front ends) its states.

    Parameters
    ----------
    classic : np.ndarray [shape=(frames, n_classic)]
    states : np.ndarray [shape=(ceil(frames / 2), 384)] or None
    """
    if front_end.kind == "classic":
        return classic
    if states is None or len(states) != (len(classic) + 1) // 2:
        raise ValueError(f"{len(classic)} classic frames need {(len(classic) + 1) // 2} encoder states, "
                         f"got {None if states is None else len(states)}")
    if front_end.kind == "encoder":
        return np.asarray(states, np.float32)
    return np.concatenate([pair_means(classic), np.asarray(states, np.float32)], axis=1)


def snap_regions(regions, n_frames, step):
    """Regions ``[(lo, hi), ...]`` widened to multiples of ``step`` (merged where they then
    touch), within ``n_frames``."""
    if step == 1:
        return list(regions)
    out: list[tuple[int, int]] = []
    for lo, hi in regions:
        lo, hi = lo - lo % step, min(hi + (-hi) % step, n_frames)
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return out


def model_mask(mask, step):
    """A 10 ms speech mask on the model's grid: a model frame is speech when any of its frames is."""
    mask = np.asarray(mask, bool)
    if step == 1:
        return mask
    n = len(mask)
    padded = np.zeros(-(-n // step) * step, bool)
    padded[:n] = mask
    return padded.reshape(-1, step).any(axis=1)
