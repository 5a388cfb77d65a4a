"""Benchmark sessions in rooms: the sessions of ``bench/sessions.py`` with steady noise, babble of
other actors or reverberation (``training/rooms.py``), and the detection scores of a speech mask.

A room's SNR is taken against the power of the session's clips (every sample of every clip,
known from the truth), so "pink 10 dB" means the noise is 10 dB below the speech that was
placed, not below the whole session with its pauses. Babble is built only from actors that
are not in the session.
"""

import dataclasses
import functools

import numpy as np

from bench import sessions
from training import rooms

SR = sessions.SR


@dataclasses.dataclass(frozen=True)
class BenchRoom:
    """A room of the benchmark: ``kind`` "clean", "pink", "brown", "babble" or "reverb"."""

    name: str
    kind: str
    snr_db: float = None
    rt60: float = None


#: The rooms of issue 23: clean, steady noise at 20/10/5 dB, babble at 20/10 dB, two RT60s.
ROOMS = (
    BenchRoom("clean", "clean"),
    BenchRoom("pink 20 dB", "pink", snr_db=20.0),
    BenchRoom("pink 10 dB", "pink", snr_db=10.0),
    BenchRoom("pink 5 dB", "pink", snr_db=5.0),
    BenchRoom("brown 20 dB", "brown", snr_db=20.0),
    BenchRoom("brown 10 dB", "brown", snr_db=10.0),
    BenchRoom("brown 5 dB", "brown", snr_db=5.0),
    BenchRoom("babble 20 dB", "babble", snr_db=20.0),
    BenchRoom("babble 10 dB", "babble", snr_db=10.0),
    BenchRoom("reverb RT60 0.3 s", "reverb", rt60=0.3),
    BenchRoom("reverb RT60 0.8 s", "reverb", rt60=0.8),
)


@functools.lru_cache(maxsize=2048)
def load_clip(path):
    """A RAVDESS clip as mono float32 at 16 kHz (cached: babble reads the same clips often)."""
    from ser_engine.audio import load_audio

    y = load_audio(path, sr=SR)
    y.setflags(write=False)
    return y


def clip_power(session):
    """Mean power of all the samples of the session's clips."""
    total, n = 0.0, 0
    for c in session.clips:
        a, b = int(round(c.start * SR)), int(round(c.end * SR))
        seg = session.audio[a:b].astype(np.float64)
        total += float((seg ** 2).sum())
        n += len(seg)
    return total / max(n, 1)


def babble_sources(exclude_actors, *, actors=range(1, 21)):
    """Clips of actors 01-20 other than ``exclude_actors``: the voices of a session's babble."""
    out = []
    for a in actors:
        if a not in set(exclude_actors):
            out += [str(p) for p in sessions.actor_clips(a)]
    return out


def in_room(session, room, *, seed, exclude_actors=()):
    """``session`` in ``room``: a new :class:`~bench.sessions.Session` with the same clips.

    Noise is added ``room.snr_db`` below :func:`clip_power`; reverberation convolves the whole
    session with one impulse response (seeded) and keeps the clips' power.
    """
    y = session.audio
    power = clip_power(session)
    if room.kind == "clean":
        out = y.copy()
    elif room.kind == "reverb":
        wet = rooms.reverberate(y, rooms.room_impulse_response(room.rt60, seed=seed, sr=SR))
        out = (wet * np.sqrt(power / max(clip_power(sessions.Session(wet, session.clips)), 1e-20))).astype(np.float32)
    else:
        n = len(y)
        if room.kind == "pink":
            noise = rooms.pink_noise(n, seed=seed, sr=SR)
        elif room.kind == "brown":
            noise = rooms.brown_noise(n, seed=seed, sr=SR)
        elif room.kind == "babble":
            noise = rooms.babble(n, sources=babble_sources(exclude_actors), seed=seed, sr=SR, loader=load_clip)
        else:
            raise ValueError(f"unknown room kind {room.kind!r}")
        out = rooms.add_noise(y, noise, snr_db=room.snr_db, sr=SR, power=power)
    return sessions.Session(out, list(session.clips))


def two_speakers(actor_a, actor_b, *, level_a, level_b, seed=0, clips_each=30):
    """A session alternating the clips of two actors at two levels (a loud and a quiet voice)."""
    rng = np.random.default_rng(seed)
    a = sessions.actor_clips(actor_a)
    b = sessions.actor_clips(actor_b)
    pa = [a[i] for i in rng.permutation(len(a))[:clips_each]]
    pb = [b[i] for i in rng.permutation(len(b))[:clips_each]]
    items = []
    for x, y in zip(pa, pb):
        items += [(x, 0, level_a), (y, 1, level_b)]
    return sessions.assemble(items, seed=seed)


def equal_level(actor, *, clips=None, level=-24.0, seed=0, pause=(1.0, 4.0)):
    """A session of one actor's clips each brought to ``level`` dBFS (every clip its own gain:
    the shared builder sets one gain per speaker, so here each clip counts as a speaker of its
    own). A clip's SNR is then the room's, for tests of the detector at a known SNR; ``clips``:
    how many, spread over the emotions (all 60 when None)."""
    paths = sessions.actor_clips(actor)
    if clips is not None:
        paths = paths[::max(len(paths) // clips, 1)][:clips]
    s = sessions.assemble([(p, k, level) for k, p in enumerate(paths)], pause=pause, seed=seed)
    return sessions.Session(s.audio, [dataclasses.replace(c, speaker=0) for c in s.clips])


def clip_snrs(clean, noisy):
    """Each clip's own SNR (dB): its power in ``clean`` against the power of the noise that
    ``noisy`` added over the whole session."""
    noise = float(np.mean((noisy.audio.astype(np.float64) - clean.audio) ** 2))
    out = []
    for c in clean.clips:
        seg = clean.audio[int(round(c.start * SR)):int(round(c.end * SR))].astype(np.float64)
        out.append(10 * np.log10(max(float(np.mean(seg ** 2)), 1e-20) / max(noise, 1e-20)))
    return out


# -- scoring a speech mask -------------------------------------------------------------------


def mask_segments(mask, *, duration, seg=None):
    """Segments ``speech``/``no speech`` from a frame mask, cut as ``analyse_recording`` cuts
    them (``speech_regions``: gaps under ``min_pause`` filled, bursts under ``min_speech``
    dropped, ``pad`` added)."""
    from ser_engine.features import FeatureConfig
    from ser_engine.results import NO_SPEECH, Segment
    from ser_engine.segments import SegmentConfig, speech_regions

    fc = FeatureConfig()
    seg = seg or SegmentConfig()
    rate = fc.frame_rate
    regions = speech_regions(np.asarray(mask, bool), config=fc, seg=seg)
    out, prev = [], 0.0
    for lo, hi in regions:
        a, b = lo / rate, min(hi / rate, duration)
        if a > prev:
            out.append(Segment(prev, a, NO_SPEECH, None, {}, False))
        out.append(Segment(a, b, "speech", 1.0, {}, False))
        prev = b
    if prev < duration:
        out.append(Segment(prev, duration, NO_SPEECH, None, {}, False))
    return out


@dataclasses.dataclass
class Detection:
    """Detection figures of one session: clips found (half or more covered by speech
    segments), pauses > 1.5 s kept "no speech" (at most 0.5 s of them called speech), the
    share of clip time inside speech segments and of pause time outside them."""

    clips_found: int
    clips: int
    pauses_kept: int
    pauses: int
    speech_time: float
    speech_covered: float
    pause_time: float
    pause_called: float

    def __add__(self, other):
        return Detection(*[a + b for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other))])


def score_segments(segments, session):
    """The :class:`Detection` of speech segments against the session's truth."""
    from ser_engine.results import NO_SPEECH

    found = sum(f for f, _ in sessions.clip_labels(segments, session.clips))
    kept, total = sessions.pauses_kept(segments, session)
    speech = [(s.start, s.end) for s in segments if s.label != NO_SPEECH]

    def covered(a, b):
        return sum(max(0.0, min(e, b) - max(s, a)) for s, e in speech)

    clip_time = sum(c.end - c.start for c in session.clips)
    clip_cov = sum(covered(c.start, c.end) for c in session.clips)
    gaps = session.pauses(min_seconds=0.0)
    gap_time = sum(b - a for a, b in gaps)
    gap_called = sum(covered(a, b) for a, b in gaps)
    return Detection(int(found), len(session.clips), int(kept), int(total), clip_time, clip_cov, gap_time,
                     gap_called)


# -- the energy rule the app used until 2026-12-02, kept to compare against ------------------

#: Its constants, as they were in ser_engine.features.
_DIGITAL_SILENCE_DB, _ROOM_MARGIN_DB, _MIN_DYNAMIC_DB, _TOP_DB = -90.0, 6.0, 15.0, 40.0


def energy_rule(energy):
    """The app's voice activity before the speech detector (``segments.vad_mask``): frames within
    40 dB of the 99th-percentile frame energy (dB), 6 dB clear of the room's floor (the 5th
    percentile of non-silent frames, when it lies 15 dB or more below the loud ones), above
    digital silence; nothing at all when loud and quiet frames are less than 15 dB apart.

    Parameters
    ----------
    energy : np.ndarray [shape=(frames,)]
        Frame log-energies (dB), as ``ser_engine.stream.FrameScan`` gives them.
    """
    energy = np.asarray(energy, np.float64)
    if len(energy) == 0:
        return np.zeros(0, bool)
    floor, ref = np.percentile(energy, [5, 99])
    if ref - floor < _MIN_DYNAMIC_DB:
        return np.zeros(len(energy), bool)
    audible = energy > _DIGITAL_SILENCE_DB
    room = np.percentile(energy[audible], 5) if audible.any() else ref
    threshold = ref - _TOP_DB
    if ref - room >= _MIN_DYNAMIC_DB:
        threshold = max(threshold, room + _ROOM_MARGIN_DB)
    return (energy > threshold) & audible
