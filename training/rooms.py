"""Room augmentation: steady noise (pink, brown), babble of other speakers and reverberation.

Clinics are rooms: air conditioning (steady, low-frequency noise), a corridor (other voices) and
hard walls (reverberation). These functions make training copies (and benchmark sessions,
``bench/rooms.py``) that have heard them. Every function is deterministic: randomness comes
only from the ``seed`` it is given, so a cached copy can be rebuilt bit for bit.

The signal-to-noise ratio is always taken against the **speech power** of the clean signal,
:func:`speech_power` (the mean power of its 25 ms frames within 30 dB of the loudest, the
definition of ``training.cache.add_noise``), so the silence around an utterance does not
count and a copy at 10 dB means the same for a short clip and a long session.

Reverberation uses room impulse responses from the image-source method of pyroomacoustics
(a shoebox room whose wall absorption is set by Sabine's formula for the asked RT60,
``pyroomacoustics.inverse_sabine``), so the nominal RT60 is Sabine's; the measured decay of
these responses is longer (about 0.36 s for 0.3 s, 1.2 s for 0.8 s in the default room).
"""

import dataclasses
import functools
import zlib
from pathlib import Path

import numpy as np

#: Below this frequency (Hz) pink and brown noise are flat: a true 1/f or 1/f^2 spectrum puts
#: unbounded power at DC (a slow drift no microphone passes).
NOISE_CORNER_HZ = 20.0
#: Default room of the impulse responses (metres): a consulting room.
ROOM_DIMS = (5.0, 4.0, 2.8)
#: Voices summed into babble: few enough that it still sounds like talk, not a crowd's hiss.
BABBLE_TALKERS = 5
#: Impulse responses kept per RT60 and sample rate by :func:`apply_room` (each costs 0.05 s at
#: RT60 0.3 s, ~1 s at 0.8 s; training reuses them across files).
RIR_LIBRARY = 8
KINDS = ("pink", "brown", "babble", "reverb")


@dataclasses.dataclass(frozen=True)
class Room:
    """One kind of room copy.

    Attributes
    ----------
    kind : str
        ``"pink"``, ``"brown"`` or ``"babble"`` (noise ``snr_db`` below the speech), or
        ``"reverb"`` (impulse response of ``rt60`` seconds).
    snr_db : float or None
    rt60 : float or None
    """

    kind: str
    snr_db: float = None
    rt60: float = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown room kind {self.kind!r} (one of {', '.join(KINDS)})")
        if self.kind == "reverb":
            if self.rt60 is None or not 0.05 <= self.rt60 <= 3.0:
                raise ValueError(f"reverberation needs rt60 between 0.05 and 3 s, not {self.rt60!r}")
        elif self.snr_db is None or not np.isfinite(self.snr_db):
            raise ValueError(f"{self.kind} noise needs a finite snr_db, not {self.snr_db!r}")

    @property
    def key(self):
        """A short name for cache keys and tables: ``pink10``, ``babble20``, ``reverb0.8``."""
        return f"{self.kind}{self.rt60:g}" if self.kind == "reverb" else f"{self.kind}{self.snr_db:g}"


def speech_power(y, *, sr):
    """Mean power of the 25 ms frames of ``y`` within 30 dB of the loudest one.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    sr : int

    Returns
    -------
    power : float
        0.0 for a signal shorter than one frame or all zeros.
    """
    frame = max(1, int(0.025 * sr))
    n = len(y) // frame
    if n == 0:
        return 0.0
    frames = (np.asarray(y[:n * frame], np.float64).reshape(n, frame) ** 2).mean(axis=1)
    if frames.max() <= 0:
        return 0.0
    return float(frames[frames >= frames.max() * 1e-3].mean())


def coloured_noise(n, *, exponent, seed, sr=16000):
    """Gaussian noise of ``n`` samples whose power falls as ``1 / f**exponent`` (flat below
    :data:`NOISE_CORNER_HZ`), scaled to unit RMS.

    ``exponent`` 0 is white, 1 pink (equal power per octave: ventilation, distant traffic),
    2 brown (rumble). Shaped in the frequency domain: one FFT of the whole length.

    Returns
    -------
    noise : np.ndarray [shape=(n,), dtype=float32]
    """
    n = int(n)
    if n <= 0:
        return np.zeros(0, np.float32)
    rng = np.random.default_rng(seed)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1.0 / sr), NOISE_CORNER_HZ)
    spec *= f ** (-exponent / 2.0)
    spec[0] = 0.0  # no DC offset
    y = np.fft.irfft(spec, n)
    rms = float(np.sqrt(np.mean(y ** 2)))
    return (y / rms if rms > 0 else y).astype(np.float32)


def pink_noise(n, *, seed, sr=16000):
    """Pink noise (power ~ 1/f), unit RMS: :func:`coloured_noise` with exponent 1."""
    return coloured_noise(n, exponent=1.0, seed=seed, sr=sr)


def brown_noise(n, *, seed, sr=16000):
    """Brown noise (power ~ 1/f^2), unit RMS: :func:`coloured_noise` with exponent 2."""
    return coloured_noise(n, exponent=2.0, seed=seed, sr=sr)


def _active(y, *, sr):
    """``y`` without its silent ends (first to last 25 ms frame within 30 dB of the loudest)."""
    frame = max(1, int(0.025 * sr))
    n = len(y) // frame
    if n == 0:
        return y
    p = (np.asarray(y[:n * frame], np.float64).reshape(n, frame) ** 2).mean(axis=1)
    if p.max() <= 0:
        return y[:0]
    loud = np.flatnonzero(p >= p.max() * 1e-3)
    return y[loud[0] * frame:(loud[-1] + 1) * frame]


def babble(n, *, sources, seed, sr=16000, talkers=BABBLE_TALKERS, loader=None):
    """Several other speakers talking at once, ``n`` samples, unit speech power.

    Each talker is a stream of clips drawn (seeded) from ``sources``, each cut to its active
    part and brought to the same speech power, laid end to end from a random offset; the
    talkers are summed. Only ``sources`` are ever read: for training, pass the clips of the
    fold's *training* actors other than the one being augmented, never a validation or test
    actor's.

    Parameters
    ----------
    n : int
    sources : sequence of str or Path
        The files babble may be built from (sorted here, so the order given does not matter).
    seed : int
    sr : int
    talkers : int
    loader : callable(path) -> np.ndarray or None
        Reads a source as mono float32 at ``sr`` (default: :func:`ser_engine.audio.load_audio`);
        a benchmark passes a cached reader.

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float32]
        Scaled so that ``speech_power(y) == 1`` (its SNR is then set by :func:`add_noise`).
    """
    n = int(n)
    sources = sorted({str(s) for s in sources})
    if not sources:
        raise ValueError("babble needs at least one source clip")
    if talkers < 1:
        raise ValueError(f"babble needs at least one talker, not {talkers}")
    if n <= 0:
        return np.zeros(0, np.float32)
    if loader is None:
        from ser_engine.audio import load_audio

        def loader(path):
            return load_audio(path, sr=sr)

    rng = np.random.default_rng(seed)
    out = np.zeros(n, np.float64)
    for _ in range(talkers):
        pieces, have, silent = [], 0, 0
        # a random offset into the first clip, so talkers do not all start a word at sample 0
        offset = None
        while have < n + (offset or 0):
            clip = _active(np.asarray(loader(sources[rng.integers(len(sources))]), np.float32), sr=sr)
            p = speech_power(clip, sr=sr)
            if p <= 0:
                silent += 1
                if silent > 10 * len(sources) + 10:
                    raise ValueError("babble sources hold no sound")
                continue
            clip = clip / np.sqrt(p)
            if offset is None:
                offset = int(rng.integers(len(clip)))
            pieces.append(clip)
            have += len(clip)
        out += np.concatenate(pieces)[offset:offset + n]
    p = speech_power(out, sr=sr)
    return (out / np.sqrt(p) if p > 0 else out).astype(np.float32)


def add_noise(y, noise, *, snr_db, sr=16000, power=None):
    """``y`` plus ``noise`` scaled to ``snr_db`` below the speech power of ``y``.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    noise : np.ndarray [shape=(n,)]
        Any level; its mean power over the whole length is what is scaled (babble: its speech
        power, since it has no silences to leave out).
    snr_db : float
    power : float or None
        The speech power to measure against (default :func:`speech_power` of ``y``); a session
        with known clips passes theirs.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
    """
    y = np.asarray(y, np.float32)
    noise = np.asarray(noise, np.float64)
    if len(noise) != len(y):
        raise ValueError(f"noise has {len(noise)} samples, the signal {len(y)}")
    if power is None:
        power = speech_power(y, sr=sr)
    npow = float(np.mean(noise ** 2)) if len(noise) else 0.0
    if power <= 0 or npow <= 0:
        return y.copy()
    gain = np.sqrt(power / 10 ** (snr_db / 10) / npow)
    return (y + gain * noise).astype(np.float32)


def room_impulse_response(rt60, *, seed, sr=16000, dims=ROOM_DIMS):
    """The impulse response from a talker to a microphone in a shoebox room with reverberation
    time ``rt60`` (Sabine), by the image-source method (pyroomacoustics).

    Talker and microphone are placed at random (seeded) at least 0.5 m from the walls, 1.0-1.7 m
    high, and 0.7-2.5 m apart (a desk or a consulting-room chair). The response starts at its
    direct-path peak (so reverberated speech keeps its timing) and is scaled to a direct path of
    amplitude 1.

    Returns
    -------
    h : np.ndarray [shape=(taps,), dtype=float32]
    """
    import pyroomacoustics as pra

    rng = np.random.default_rng(seed)
    dims = np.asarray(dims, float)
    absorption, max_order = pra.inverse_sabine(float(rt60), dims.tolist())
    lo, hi = np.array([0.5, 0.5, 1.0]), np.array([dims[0] - 0.5, dims[1] - 0.5, 1.7])
    while True:
        src, mic = rng.uniform(lo, hi), rng.uniform(lo, hi)
        if 0.7 <= np.linalg.norm(src - mic) <= 2.5:
            break
    room = pra.ShoeBox(dims.tolist(), fs=sr, materials=pra.Material(absorption), max_order=max_order)
    room.add_source(src.tolist())
    room.add_microphone(mic.tolist())
    room.compute_rir()
    h = np.asarray(room.rir[0][0], np.float64)
    peak = int(np.argmax(np.abs(h)))
    return (h[peak:] / h[peak]).astype(np.float32)


@functools.lru_cache(maxsize=4 * RIR_LIBRARY)
def _library_rir(rt60, index, sr):
    return room_impulse_response(rt60, seed=10_000 + index, sr=sr)


def reverberate(y, h):
    """``y`` convolved with the impulse response ``h``, cut to the length of ``y``.

    ``h`` starts at its direct path (:func:`room_impulse_response`), so speech stays where it
    was; the tail that rings past the end is dropped.

    Returns
    -------
    np.ndarray [shape=(len(y),), dtype=float32]
    """
    from scipy.signal import fftconvolve

    y = np.asarray(y, np.float32)
    if len(y) == 0 or len(h) == 0:
        return y.copy()
    return fftconvolve(y, np.asarray(h, np.float32), mode="full")[:len(y)].astype(np.float32)


def apply_room(y, room, *, seed, sr=16000, sources=(), loader=None):
    """A room copy of ``y``: the one call a feature cache makes per augmented file.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        A clean training clip.
    room : Room
    seed : int
        E.g. from the file's content digest, so the copy is the same in every run.
    sources : sequence of path
        For babble: the clips it may be built from (the fold's other training actors only).
    loader : callable or None
        See :func:`babble`.

    Reverberation picks one of :data:`RIR_LIBRARY` rooms (by ``seed``) and keeps the clip's
    speech power; noise is added ``room.snr_db`` below the clip's speech power.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
    """
    y = np.asarray(y, np.float32)
    if room.kind == "reverb":
        h = _library_rir(float(room.rt60), int(seed) % RIR_LIBRARY, int(sr))
        wet = reverberate(y, h)
        before, after = speech_power(y, sr=sr), speech_power(wet, sr=sr)
        return (wet * np.sqrt(before / after)).astype(np.float32) if after > 0 else wet
    n = len(y)
    if room.kind == "pink":
        noise = pink_noise(n, seed=seed, sr=sr)
    elif room.kind == "brown":
        noise = brown_noise(n, seed=seed, sr=sr)
    else:
        noise = babble(n, sources=sources, seed=seed, sr=sr, loader=loader)
    return add_noise(y, noise, snr_db=room.snr_db, sr=sr)


def other_actor_sources(paths, *, exclude_actor):
    """The clips of ``paths`` not spoken by ``exclude_actor`` (RAVDESS ``Actor_NN`` folders or
    names ending in ``-NN``): babble for a clip never contains its own speaker."""
    out = []
    for p in paths:
        stem = Path(p).stem
        try:
            actor = int(stem.rsplit("-", 1)[-1])
        except ValueError:
            actor = None
        if actor != int(exclude_actor):
            out.append(p)
    return out


#: The rooms a training copy is drawn from (``TrainConfig.channels`` "room", one copy per
#: recording): steady noise of two colours at 20/10/5 dB and the two reverberation times of the
#: benchmark. No babble: its voices must be actors that train every model this actor trains
#: (never a fold's validation or test actor), which a copy cached per recording cannot know.
TRAINING_ROOMS = (Room("pink", snr_db=20), Room("pink", snr_db=10), Room("pink", snr_db=5),
                  Room("brown", snr_db=20), Room("brown", snr_db=10), Room("brown", snr_db=5),
                  Room("reverb", rt60=0.3), Room("reverb", rt60=0.8))


def room_of(y):
    """The room of :data:`TRAINING_ROOMS` a clip's training copy is made in, and the copy's
    seed: both from the clip's samples, so every run (and every worker) makes the same copy and
    the rooms fall evenly across a training set."""
    digest = zlib.crc32(np.ascontiguousarray(y, np.float32).tobytes())
    return TRAINING_ROOMS[digest % len(TRAINING_ROOMS)], digest // len(TRAINING_ROOMS)


def room_copy(y, *, sr):
    """``y`` heard in the room :func:`room_of` draws for it (:func:`apply_room`)."""
    room, seed = room_of(y)
    return apply_room(y, room, seed=seed, sr=sr)
