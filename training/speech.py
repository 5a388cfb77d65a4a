"""Where training finds speech: the app's speech detector on the audio of every recording and copy.

The regions a model is trained and scored on must be those the app finds in users' files
(:mod:`ser_engine.vad`, the adaptive noise floor). The detector needs the samples, which the
feature cache does not keep, so the audio of each recording (or augmented copy) is made again
exactly as for its features (:func:`training.cache.variant_audio`) and its mask cached on its
own, keyed by the file's content, the copy and the detector's settings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
from pathlib import Path

import numpy as np

from ser_engine.atomic import atomic_write_bytes
from ser_engine.errors import TrainingCancelled
from ser_engine.paths import user_cache_dir

logger = logging.getLogger(__name__)


def detector_key() -> str:
    """A short digest of the speech detector's settings (part of every cache key that depends
    on where speech was found)."""
    from ser_engine.vad import DetectorSettings

    settings = sorted(dataclasses.asdict(DetectorSettings()).items())
    return hashlib.sha256(repr(settings).encode()).hexdigest()[:12]


class MaskCache:
    """Speech masks on disk as packed bits: ``<root>/<settings>/<sha[:2]>/<sha><copy>.npy``."""

    def __init__(self, root=None):
        self.root = Path(root) if root else user_cache_dir() / "speech"
        self.folder = self.root / detector_key()

    def _entry(self, digest):
        return self.folder / digest[:2] / f"{digest}.npy"

    def get(self, digest, n_frames):
        entry = self._entry(digest)
        if not entry.exists():
            return None
        try:
            bits = np.load(entry, allow_pickle=False)
        except (OSError, ValueError):
            logger.warning("unreadable cache entry %s; recomputing", entry)
            return None
        mask = np.unpackbits(bits)[:n_frames].astype(bool)
        return mask if len(mask) == n_frames else None

    def put(self, digest, mask):
        buf = io.BytesIO()
        np.save(buf, np.packbits(np.asarray(mask, bool)), allow_pickle=False)
        atomic_write_bytes(self._entry(digest), buf.getvalue())


def _copy_of(key):
    """``(path, what makes the copy)`` of a ``features`` key: the :func:`~training.cache.variant_key`
    arguments its key part names (none for the recording itself)."""
    from .cache import CHANNEL_PREFIX

    path, variant = (key, None) if not isinstance(key, tuple) else key
    if variant is None:
        return path, {}
    if isinstance(variant, str) and variant.startswith("snr"):
        return path, {"snr": float(variant[3:])}
    if isinstance(variant, str) and variant.startswith("pitch"):
        return path, {"pitch": float(variant[5:])}
    if isinstance(variant, str) and variant.startswith(CHANNEL_PREFIX):
        return path, {"channel": variant[len(CHANNEL_PREFIX):]}
    return path, {"speed": float(variant)}


def copy_digest(key) -> str:
    """The cache digest of a ``features`` key: the file's content and the copy's suffix."""
    from .cache import file_digest, variant_key

    path, copy = _copy_of(key)
    return file_digest(path) + variant_key(**copy)


def copy_audio(key, *, sr):
    """The samples of a ``features`` key: the recording, or the copy its key part names, made
    exactly as for its features (the noise seeded by the file's content)."""
    from .cache import _seed, file_digest, variant_audio

    path, copy = _copy_of(key)
    seed = _seed(file_digest(path)) if "snr" in copy else 0
    return variant_audio(path, sr=sr, seed=seed, **copy)


def speech_masks(features, *, config, cache=None, progress=None, should_stop=None):
    """The speech detector's mask of every recording and copy in ``features`` (same keys).

    Parameters
    ----------
    features : dict
        ``path`` or ``(path, key)`` -> classic frames (their count checks the mask's).
    config : FeatureConfig
    cache : MaskCache or None
    progress : callable(done, total, cached) or None

    Returns
    -------
    masks : dict, same keys -> np.ndarray [shape=(frames,), dtype=bool]
    """
    from ser_engine.vad import speech_mask

    out, total, n_cached = {}, len(features), 0
    for i, (key, X) in enumerate(features.items()):
        if should_stop and should_stop():
            raise TrainingCancelled("training cancelled while finding speech; the active model is unchanged")
        digest = copy_digest(key)
        mask = cache.get(digest, len(X)) if cache else None
        if mask is None:
            mask = speech_mask(copy_audio(key, sr=config.sample_rate), sample_rate=config.sample_rate,
                               hop_length=config.hop_length)
            if len(mask) != len(X):
                raise ValueError(f"{key}: {len(mask)} detector frames for {len(X)} feature frames")
            if cache:
                cache.put(digest, mask)
        else:
            n_cached += 1
        out[key] = mask
        if progress and ((i + 1) % 100 == 0 or i + 1 == total):
            progress(i + 1, total, n_cached)
    return out
