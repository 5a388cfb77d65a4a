"""Synthetic sessions with known truth, built from RAVDESS clips, and how a timeline is scored
against them. Shared by the benchmarks of speaker baselines, rooms and speaker turns.

A session is clips joined by pauses: each clip trimmed of its silent ends, each speaker's clips
brought together to one speech level (one gain per speaker, so loudness still differs between
emotions), each placed after a pause of silence (rooms add their noise over the whole session
later).
The truth is one :class:`Clip` per clip: where it lies, its emotion and its speaker.
"""

import dataclasses
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "ravdess-speech-16k"
SR = 16000
#: Emotion groups of the skewed sessions (RAVDESS names).
LOW_AROUSAL = ("neutral", "calm", "sad")
HIGH_AROUSAL = ("angry", "fearful", "surprised")


@dataclasses.dataclass(frozen=True)
class Clip:
    """One clip of a session: seconds from the session's start, its emotion and speaker."""

    start: float
    end: float
    emotion: str
    speaker: int
    path: str


@dataclasses.dataclass
class Session:
    audio: np.ndarray  # float32 mono at SR
    clips: list  # of Clip, in time order

    @property
    def duration(self):
        return len(self.audio) / SR

    def pauses(self, *, min_seconds=1.5):
        """``(start, end)`` of the gaps between clips (and before the first) of at least ``min_seconds``."""
        out, t = [], 0.0
        for c in self.clips:
            if c.start - t >= min_seconds:
                out.append((t, c.start))
            t = c.end
        return out

    def write(self, dest):
        """A 32-bit float WAV: a loud speaker's peaks may pass full scale without clipping (levels
        are set per speaker, so their loudest clips are not limited)."""
        import soundfile as sf

        sf.write(dest, self.audio.astype(np.float32), SR, subtype="FLOAT")
        return dest


def actor_clips(actor, emotions=None):
    """Paths of an actor's clips, sorted, optionally only ``emotions`` (names)."""
    from training.dataset import parse_name

    paths = sorted((DATA / f"Actor_{actor:02d}").glob("03-01-*.flac"))
    if emotions is None:
        return paths
    return [p for p in paths if parse_name(p)[0].emotion in emotions]


def emotion_of(path):
    from training.dataset import parse_name

    return parse_name(path)[0].emotion


def trimmed(path, *, margin=0.1):
    """A clip without its silent ends (``margin`` s kept), at its recorded level."""
    from ser_engine.audio import load_audio

    y = load_audio(path, sr=SR)
    loud = np.flatnonzero(np.abs(y) > 0.02 * max(float(np.abs(y).max()), 1e-9) / 0.5)
    if len(loud):
        m = int(margin * SR)
        y = y[max(loud[0] - m, 0):loud[-1] + m]
    return y.astype(np.float32)


def _rms_db(ys):
    energy = sum(float(np.sum(y.astype(np.float64) ** 2)) for y in ys)
    n = sum(len(y) for y in ys)
    return 10 * np.log10(max(energy / max(n, 1), 1e-20))


def assemble(items, *, pause=(1.0, 4.0), seed=0, tail=2.0):
    """A session of ``items`` = ``[(path, speaker, level_dbfs), ...]`` in that order, each after a
    pause drawn uniformly from ``pause`` seconds (silence), then ``tail`` seconds of silence.

    Each speaker's clips get one gain, so that their speech together has the RMS level
    ``level_dbfs`` (the first given for that speaker): a speaker's angry clips stay louder than
    their sad ones, as in a real session (scaling each clip to one level would remove the
    loudness an emotion has)."""
    rng = np.random.default_rng(seed)
    audio = {}
    for path, _, _ in items:
        if path not in audio:
            audio[path] = trimmed(path)
    gain = {}
    for speaker in dict.fromkeys(sp for _, sp, _ in items):
        level = next(lv for _, sp, lv in items if sp == speaker)
        ys = [audio[p] for p, sp, _ in items if sp == speaker]
        gain[speaker] = 10 ** ((level - _rms_db(ys)) / 20)
    pieces, clips, n = [], [], 0
    for path, speaker, _ in items:
        y = (audio[path] * gain[speaker]).astype(np.float32)
        gap = int(rng.uniform(*pause) * SR)
        start = n + gap
        clips.append(Clip(start / SR, (start + len(y)) / SR, emotion_of(path), int(speaker), str(path)))
        pieces += [np.zeros(gap, np.float32), y]
        n = start + len(y)
    pieces.append(np.zeros(int(tail * SR), np.float32))
    return Session(np.concatenate(pieces), clips)


def one_speaker(actor, *, emotions=None, minutes=None, seed=0, level=-24.0, pause=(1.0, 4.0)):
    """A session of one actor's clips (only ``emotions`` if given), shuffled; every clip once,
    or drawn with replacement until ``minutes`` of audio when given."""
    rng = np.random.default_rng(seed)
    paths = actor_clips(actor, emotions)
    if minutes is None:
        order = [paths[i] for i in rng.permutation(len(paths))]
    else:
        order, total = [], 0.0
        while total < minutes * 60:
            p = paths[rng.integers(len(paths))]
            order.append(p)
            total += 3.5 + sum(pause) / 2  # a typical clip and pause; the session ends near `minutes`
    return assemble([(p, 0, level) for p in order], pause=pause, seed=seed)


# -- scoring ---------------------------------------------------------------------------------


def _speech_over(segments, clip):
    """``(segment, seconds of overlap)`` of each speech segment that overlaps ``clip``."""
    for s in segments:
        overlap = min(s.end, clip.end) - max(s.start, clip.start)
        if overlap > 0 and s.is_speech:
            yield s, overlap


def clip_labels(segments, clips):
    """Per clip: ``(found, label)``: found when speech segments cover half of it or more; label
    the emotion covering most of it (None when not found)."""
    out = []
    for c in clips:
        cover = {}
        for s, overlap in _speech_over(segments, c):
            cover[s.label] = cover.get(s.label, 0.0) + overlap
        speech = sum(cover.values())
        found = speech >= 0.5 * (c.end - c.start)
        out.append((found, max(cover, key=cover.get) if found else None))
    return out


def covering_segments(segments, clips):
    """Per clip: the speech segment covering most of it (its label, uncertain mark and SNR are
    what a user reads for that clip), or None."""
    return [max(_speech_over(segments, c), key=lambda so: so[1], default=(None, 0.0))[0] for c in clips]


def clip_accuracy(segments, clips):
    """Share of clips found and labelled with their emotion."""
    labels = clip_labels(segments, clips)
    if not clips:
        return float("nan")
    return float(np.mean([lab == c.emotion for (_, lab), c in zip(labels, clips, strict=True)]))


def true_shares(clips, labels):
    """Each emotion's share of the clips' speech time."""
    t = {lab: 0.0 for lab in labels}
    for c in clips:
        t[c.emotion] = t.get(c.emotion, 0.0) + (c.end - c.start)
    total = sum(t.values()) or 1.0
    return {k: v / total for k, v in t.items()}


def tv_distance(p, q):
    """Total variation distance between two share profiles (dicts over the same labels)."""
    keys = set(p) | set(q)
    return 0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in keys)


def pauses_kept(segments, session, *, min_seconds=1.5, tolerance=0.5):
    """Pauses of at least ``min_seconds`` of which no more than ``tolerance`` s is labelled speech,
    of all such pauses: ``(kept, total)``."""
    from ser_engine.results import NO_SPEECH

    gaps = session.pauses(min_seconds=min_seconds)
    kept = 0
    for a, b in gaps:
        speech = sum(max(0.0, min(s.end, b) - max(s.start, a)) for s in segments if s.label != NO_SPEECH)
        kept += speech <= tolerance
    return kept, len(gaps)
