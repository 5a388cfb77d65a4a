"""Feature cache keyed by file content and feature settings.

A second training run on the same folder (or a renamed copy of it) skips extraction.
Entries live in the user cache folder as ``.npy`` files, written atomically.
"""

import contextlib
import dataclasses
import hashlib
import io
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from ser_engine.atomic import atomic_write_bytes
from ser_engine.audio import load_audio
from ser_engine.errors import SerError, TrainingCancelled
from ser_engine.features import FeatureConfig, compute_features
from ser_engine.paths import user_cache_dir

from .rooms import room_copy

logger = logging.getLogger(__name__)

#: Files per task handed to an extraction process (bounds how long a cancel waits).
MAX_CHUNK = 8


def file_digest(path):
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class FeatureCache:
    """Features on disk under ``<root>/<config digest>/<sha[:2]>/<sha>.npy``."""

    def __init__(self, config, root=None):
        self.config = config
        self.root = Path(root) if root else user_cache_dir() / "features"
        self.folder = self.root / config.digest()

    def _entry(self, digest):
        return self.folder / digest[:2] / f"{digest}.npy"

    def get(self, digest):
        entry = self._entry(digest)
        if not entry.exists():
            return None
        try:
            X = np.load(entry, allow_pickle=False)
        except (OSError, ValueError):
            logger.warning("unreadable cache entry %s; recomputing", entry)
            return None
        return X if X.ndim == 2 and X.shape[1] == self.config.n_features else None

    def put(self, digest, X):
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(X, np.float32), allow_pickle=False)
        atomic_write_bytes(self._entry(digest), buf.getvalue())


def speed_perturb(y, speed, *, sr):
    """Play ``y`` ``speed`` times faster (tempo and pitch together, as a tape would):
    resampled by soxr to ``sr / speed`` samples per second and read back at ``sr``."""
    import soxr

    return soxr.resample(y, sr, sr / speed, quality="HQ").astype(np.float32)


def add_noise(y, snr_db, *, sr, seed):
    """``y`` plus white Gaussian noise ``snr_db`` below its speech power: the mean power of
    its 25 ms frames within 30 dB of the loudest, so the silence around an utterance does
    not count."""
    frame = max(1, int(0.025 * sr))
    n = len(y) // frame
    if n == 0:
        return y
    frames = (y[:n * frame].reshape(n, frame).astype(np.float64) ** 2).mean(axis=1)
    power = frames[frames >= frames.max() * 1e-3].mean()
    noise = np.random.default_rng(seed).standard_normal(len(y)) * np.sqrt(power / 10 ** (snr_db / 10))
    return (y + noise).astype(np.float32)


def pitch_shift(y, steps, *, sr):
    """``y`` ``steps`` semitones higher (lower when negative) at the same tempo: librosa's
    phase-vocoder time stretch, then soxr resampling back to the original length. Unlike
    :func:`speed_perturb`, the words keep their timing."""
    import librosa

    return librosa.effects.pitch_shift(y, sr=sr, n_steps=steps, res_type="soxr_hq").astype(np.float32)


def telephone_band(y, *, sr):
    """``y`` through a telephone line: 300-3,400 Hz (4th-order Butterworth band-pass) and an
    8 kHz sample rate (soxr), back at ``sr`` with the same length."""
    import scipy.signal as sig
    import soxr

    band = sig.sosfilt(sig.butter(4, [300, 3400], btype="bandpass", fs=sr, output="sos"), y)
    narrow = soxr.resample(band, sr, 8000)
    out = soxr.resample(narrow, 8000, sr)[:len(y)]
    return np.pad(out, (0, len(y) - len(out))).astype(np.float32)


#: The recording channels a training copy can be sent through (``TrainConfig.channels``).
CHANNELS = {"telephone": telephone_band, "room": room_copy}


def variant_key(speed=1.0, snr=None, pitch=None, channel=None):
    """The key suffix of an augmented copy (``""`` for the recording itself)."""
    return (("" if speed == 1.0 else f"-speed{speed:g}") + ("" if snr is None else f"-snr{snr:g}")
            + ("" if pitch is None else f"-{pitch_key(pitch)}") + ("" if channel is None else f"-{channel_key(channel)}"))


def variant_audio(path, *, sr, speed=1.0, snr=None, seed=0, pitch=None, channel=None):
    """A recording, or its augmented copy: played ``speed`` times faster, shifted ``pitch``
    semitones, with white noise ``snr`` dB below its speech (seeded by ``seed``), sent
    through a ``channel`` of :data:`CHANNELS`."""
    y = load_audio(path, sr=sr)
    if speed != 1.0:
        y = speed_perturb(y, speed, sr=sr)
    if pitch is not None:
        y = pitch_shift(y, pitch, sr=sr)
    if snr is not None:
        y = add_noise(y, snr, sr=sr, seed=seed)
    if channel is not None:
        y = CHANNELS[channel](y, sr=sr)
    return y


def _extract(path, config_dict, speed=1.0, snr=None, seed=0, pitch=None, channel=None):
    # Runs in a worker process: returns features or the reason they could not be made.
    try:
        config = FeatureConfig.from_dict(config_dict)
        y = variant_audio(path, sr=config.sample_rate, speed=speed, snr=snr, seed=seed, pitch=pitch, channel=channel)
        return compute_features(y, config=config), None
    except SerError as exc:
        return None, getattr(exc, "reason", str(exc))


def extract_features(paths, *, config, cache=None, workers=2, progress=None, speed=1.0, snr=None, pitch=None,
                     channel=None, should_stop=None, runner=None):
    """Features of many files, from the cache where possible.

    Parameters
    ----------
    paths : sequence of Path
    config : FeatureConfig
    cache : FeatureCache or None
    workers : int
        Processes for the files not in the cache (spawned, so they never inherit
        TensorFlow's threads from the parent).
    progress : callable(done, total, cached) or None
    speed : float
        Features of the recordings played this many times faster (training augmentation);
        cached under their own key.
    snr : float or None
        Features of the recordings with white noise this many dB below their speech power
        (training augmentation; the noise is seeded by the file's content, so a cached copy
        and a recomputed one agree).
    pitch : float or None
        Features of the recordings shifted this many semitones at the same tempo
        (training augmentation).
    should_stop : callable() -> bool or None
        Polled after each file; True raises :class:`TrainingCancelled` (the files already
        extracted stay in the cache).
    runner : ClusterRunner or None
        Extract on a Dask cluster's workers instead (:mod:`training.distributed`; ``workers``
        is then unused); this process still writes the cache, in order.

    Returns
    -------
    features : dict Path -> np.ndarray [shape=(frames, n_features)]
    failures : dict Path -> str
        Files that could not be read, with the reason.
    n_cached : int
    """
    features, failures, todo, digests = {}, {}, [], {}
    total = len(paths)
    for path in paths:
        digest = file_digest(path) + variant_key(speed, snr, pitch, channel)
        digests[path] = digest
        X = cache.get(digest) if cache else None
        if X is None:
            todo.append(path)
        else:
            features[path] = X
    n_cached = len(features)
    if progress:
        progress(n_cached, total, n_cached)

    def finish(path, result):
        X, reason = result
        if X is None:
            failures[path] = reason
        else:
            features[path] = X
            if cache:
                cache.put(digests[path], X)
        if progress:
            progress(len(features) + len(failures), total, n_cached)

    def check_stop():
        if should_stop and should_stop():
            raise TrainingCancelled("training cancelled during feature extraction; the active model is unchanged")

    cfg = config.to_dict()
    if runner is not None and todo:
        from .distributed import check_unreadable, extract_task

        jobs = [(p, _seed(digests[p])) for p in todo]
        results = runner.run(extract_task, jobs, name="ser-features", config_dict=cfg, speed=speed, snr=snr,
                             pitch=pitch, channel=channel)
        with contextlib.closing(results):  # a cancel or an error: the cluster drops the files not done
            for path, (result, unreadable) in zip(todo, results):
                check_unreadable(path, unreadable)
                finish(path, result)
                check_stop()
    elif workers > 1 and len(todo) > 8:
        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
        try:
            # Small chunks: a cancel waits at most for the chunks already running.
            chunk = max(1, min(MAX_CHUNK, len(todo) // (workers * 8)))
            results = pool.map(_extract, todo, [cfg] * len(todo), [speed] * len(todo), [snr] * len(todo),
                               [_seed(digests[p]) for p in todo], [pitch] * len(todo), [channel] * len(todo),
                               chunksize=chunk)
            for path, result in zip(todo, results):
                finish(path, result)
                check_stop()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        for path in todo:
            finish(path, _extract(path, cfg, speed, snr, _seed(digests[path]), pitch, channel))
            check_stop()
    return features, failures, n_cached


def _seed(digest):
    return int(digest[:8], 16)


def noise_key(snr):
    """The ``features`` key part of the copies with noise at ``snr`` dB."""
    return f"snr{snr:g}"


def pitch_key(steps):
    """The ``features`` key part of the copies shifted by ``steps`` semitones."""
    return f"pitch{steps:+g}"


#: How a channel copy's ``features`` key part starts (:func:`channel_key`; read back by
#: ``training.speech``).
CHANNEL_PREFIX = "channel-"


def channel_key(name):
    """The ``features`` key part of the copies sent through channel ``name`` (:data:`CHANNELS`)."""
    return CHANNEL_PREFIX + name


def extract_training_features(paths, *, config, speeds=(), noise_snrs=(), pitch_steps=(), channels=(), cache=None,
                              workers=2, progress=None, should_stop=None, runner=None):
    """Features of the recordings, of their speed-perturbed, noisy, pitch-shifted and
    channel copies.

    Returns
    -------
    features : dict
        ``path -> X`` for the recordings, ``(path, speed) -> X`` for each speed,
        ``(path, noise_key(snr)) -> X`` for each SNR and ``(path, pitch_key(steps)) -> X``
        for each pitch shift and ``(path, channel_key(name))`` for each channel.
    failures : dict Path -> str
    n_cached : int
        Of all ``len(paths) * (1 + len(speeds) + len(noise_snrs) + len(pitch_steps) + len(channels))``
        feature sets.
    """
    total = len(paths) * (1 + len(speeds) + len(noise_snrs) + len(pitch_steps) + len(channels))
    offset = [0, 0]  # files and cache hits of the finished passes

    def report(done, _total, cached):
        if progress:
            progress(offset[0] + done, total, offset[1] + cached)

    features, failures, n_cached = extract_features(paths, config=config, cache=cache, workers=workers,
                                                    progress=report, should_stop=should_stop, runner=runner)
    good = [p for p in paths if p in features]
    variants = [(speed, {"speed": speed}) for speed in speeds]
    variants += [(noise_key(snr), {"snr": snr}) for snr in noise_snrs]
    variants += [(pitch_key(steps), {"pitch": steps}) for steps in pitch_steps]
    variants += [(channel_key(name), {"channel": name}) for name in channels]
    for key, kwargs in variants:
        offset[0] += len(paths)
        offset[1] = n_cached
        more, _, cached = extract_features(good, config=config, cache=cache, workers=workers, progress=report,
                                           should_stop=should_stop, runner=runner, **kwargs)
        features.update({(p, key): X for p, X in more.items()})
        n_cached += cached
    if progress:
        progress(total, total, n_cached)
    return features, failures, n_cached


# -- encoder states ---------------------------------------------------------------------------


class StatesCache:
    """Encoder states of recordings' speech regions on disk, keyed by file content, variant,
    the encoder's files and everything that decides the regions:
    ``<root>/<digest of settings>/<sha[:2]>/<sha><variant>.npz``."""

    def __init__(self, config, seg, spec, root=None):
        import json

        self.root = Path(root) if root else user_cache_dir() / "encoder"
        from .speech import detector_key

        key = json.dumps({"features": config.digest(), "segments": dataclasses.asdict(seg), "encoder": spec.to_dict(),
                          "speech": detector_key()}, sort_keys=True)
        self.folder = self.root / hashlib.sha256(key.encode()).hexdigest()[:16]

    def _entry(self, digest):
        return self.folder / digest[:2] / f"{digest}.npz"

    def get(self, digest):
        entry = self._entry(digest)
        if not entry.exists():
            return None
        try:
            with np.load(entry, allow_pickle=False) as data:
                states, lengths = data["states"], data["lengths"]
        except (OSError, ValueError, KeyError):
            logger.warning("unreadable cache entry %s; recomputing", entry)
            return None
        return np.split(states, np.cumsum(lengths)[:-1]) if len(lengths) else []

    def put(self, digest, states):
        buf = io.BytesIO()
        lengths = np.array([len(s) for s in states], np.int64)
        joined = np.concatenate(states) if states else np.zeros((0, 384), np.float16)
        np.savez(buf, states=joined.astype(np.float16), lengths=lengths)
        atomic_write_bytes(self._entry(digest), buf.getvalue())


def extract_encoder_states(features, *, config, seg, front_end, cache=None, progress=None, should_stop=None,
                           files_per_call=8, runner=None):
    """Encoder states of the speech regions of every recording and copy in ``features``.

    The regions are the app's (from the classic frames' voice activity, snapped to the
    front end's grid), the audio of a copy is made again exactly as for its features, and
    the states are those the app computes (:func:`ser_engine.encoder.region_states`), so a
    model is trained on what it will hear. Stored as float16 (the encoder runs in int8).

    Parameters
    ----------
    features : dict
        ``path`` or ``(path, key)`` -> classic frames (:func:`extract_training_features`).
    progress : callable(done, total, cached) or None
    runner : ClusterRunner or None
        Encode on a Dask cluster's workers instead (:mod:`training.distributed`): the same
        groups of ``files_per_call`` recordings, each worker with its own encoder; this
        process still writes the cache, in order.

    Returns
    -------
    states : dict, same keys -> list of np.ndarray [shape=(ceil(region frames / 2), 384)], one per region
    """
    from ser_engine.encoder import SpeechEncoder, current_spec, whisper_mel_bank

    from .speech import copy_digest

    spec = current_spec()
    cache = cache if cache is not None else None
    out, todo = {}, []
    digests = {}
    for key in features:
        digests[key] = copy_digest(key)
        cached = cache.get(digests[key]) if cache else None
        if cached is not None:
            out[key] = _as_stored(cached)
        else:
            todo.append(key)
    n_cached = len(out)
    total = len(features)
    if progress:
        progress(n_cached, total, n_cached)
    if not todo:
        return out
    groups = [todo[i:i + files_per_call] for i in range(0, len(todo), files_per_call)]
    if runner is not None:  # a group's keys are all a worker needs: it makes the audio again
        from .distributed import encode_task

        results = runner.run(encode_task, groups, name="ser-encoder", config=config, seg=seg, front_end=front_end,
                             spec=spec)
    else:
        encoder, bank = SpeechEncoder(spec), whisper_mel_bank()
        results = (encode_group(encoder, bank, keys, config=config, seg=seg, front_end=front_end) for keys in groups)
    results = iter(results)
    with contextlib.closing(results):  # a cancel or an error: the cluster drops the groups not done
        for keys in groups:
            if should_stop and should_stop():
                raise TrainingCancelled("training cancelled during feature extraction; the active model is unchanged")
            states = next(results)
            for key in keys:
                out[key] = _as_stored(states[key])
                if cache:
                    cache.put(digests[key], out[key])
            if progress:
                progress(len(out), total, n_cached)
    return out


def extract_run_states(features, cfg, *, cache_root=None, progress=None, should_stop=None, runner=None):
    """The encoder states a training run with ``cfg`` reads, or None when it reads none:
    :func:`extract_encoder_states` with the app's segments, cached where every run with
    ``cache_root`` looks for them (``cache_root/encoder``; None: the user's cache folder).

    An encoder front end trains on the states of every recording and copy; a classic one with
    a teacher (``cfg.distill``) needs only the recordings' own, for the teacher's targets."""
    from ser_engine.encoder import current_spec
    from ser_engine.frontend import FrontEndConfig
    from ser_engine.segments import SegmentConfig

    front_end = cfg.front_end
    if not front_end.uses_encoder:
        if not cfg.distill:
            return None
        front_end = FrontEndConfig("encoder")
        features = {key: X for key, X in features.items() if not isinstance(key, tuple)}
    seg = SegmentConfig()
    cache = StatesCache(cfg.feature, seg, current_spec(), cache_root and Path(cache_root) / "encoder")
    return extract_encoder_states(features, config=cfg.feature, seg=seg, front_end=front_end, cache=cache,
                                  progress=progress, should_stop=should_stop, runner=runner)


def _as_stored(states):
    """Encoder states as the cache stores them (float16), in float32: a run that computes them
    trains on the numbers a run that reads them from the cache trains on (float32 states
    against their float16 copies gave other weights from the first run on a cold cache)."""
    return [np.asarray(np.asarray(s, np.float16), np.float32) for s in states]


def encode_group(encoder, bank, keys, *, config, seg, front_end):
    """Encoder states of the speech regions of a few recordings or copies, in one call of
    the encoder: ``{key: [states of each region]}`` (:func:`extract_encoder_states`)."""
    from ser_engine.encoder import region_states
    from ser_engine.segments import regions_of
    from ser_engine.vad import speech_mask

    from .speech import copy_audio

    pieces, owner = [], []
    for key in keys:
        y = copy_audio(key, sr=config.sample_rate)
        # the app's regions: the speech detector's, on the copy's own samples
        mask = speech_mask(y, sample_rate=config.sample_rate, hop_length=config.hop_length)
        for lo, hi in regions_of(mask, feature_config=config, config=seg, step=front_end.step):
            pieces.append((y, 0, lo, hi))
            owner.append(key)
    states = region_states(encoder, pieces, bank=bank)
    return {key: [s for s, k in zip(states, owner) if k == key] for key in keys}


