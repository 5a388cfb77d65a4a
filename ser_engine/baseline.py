"""Which statistics normalise a recording's features: the training data's (global) or a
speaker baseline, and from what.

A speaker baseline is the mean (and, for older bundles, the spread) of one speaker's speech
frames. It removes what is constant about a voice and a microphone, but it is taken from
whatever that speaker said: a session that is mostly sad moves the baseline towards sadness,
and then sad speech looks neutral. What the app does about that (measured in BENCHMARKS.md,
"Speaker baselines under skew"):

- bundles say how a baseline is applied (``normalisation.speaker_scale`` in the manifest):
  ``"speaker"`` centres and scales by the speaker's statistics (bundles before 2026-12);
  ``"global"`` centres on the speaker's mean and keeps the training data's scale;
- a baseline needs :data:`MIN_BASELINE_SPEECH_S` seconds of speech: one from less is refused
  with the reason, never used silently;
- the sources, in the order a user meets them: the recording itself (``auto``: when it holds
  enough speech), a folder of one speaker's clips, or a reference the user chose (a file or a
  stretch of a recording, e.g. the speaker's neutral small talk).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from .errors import SerError
from .normalise import FeatureStats
from .results import GLOBAL, Normalisation

#: Seconds of speech below which a speaker baseline is refused. Measured: a baseline from 10 s
#: (about four RAVDESS clips) still helped on unseen actors; see BENCHMARKS.md.
MIN_BASELINE_SPEECH_S = 10.0


class BaselineError(SerError):
    """A speaker baseline was asked for but cannot be made (too little speech, unreadable file)."""


@dataclasses.dataclass(frozen=True)
class Baseline:
    """Statistics ready to normalise with, and the record of where they came from."""

    stats: FeatureStats
    normalisation: Normalisation

    @property
    def mode(self) -> str:
        return self.normalisation.mode


def global_baseline(global_stats: FeatureStats, *, note: str | None = None) -> Baseline:
    """The training data's statistics."""
    return Baseline(global_stats, dataclasses.replace(GLOBAL, note=note) if note else GLOBAL)


def speaker_stats(raw: FeatureStats, global_stats: FeatureStats, *, scale: str) -> FeatureStats:
    """The statistics a speaker baseline normalises with.

    Parameters
    ----------
    raw : FeatureStats
        Mean and spread of the speaker's speech frames.
    scale : str
        ``"speaker"``: the speaker's own spread; ``"global"``: the training data's spread
        (the speaker's spread shrinks with emotionally uniform material and would blow up
        what little variation is left).
    """
    if scale == "speaker":
        return raw
    if scale == "global":
        return FeatureStats(raw.mean, global_stats.std, raw.n_frames)
    raise ValueError(f"unknown speaker scale {scale!r}")


def speaker_baseline(raw: FeatureStats | None, *, global_stats: FeatureStats, scale: str, frame_rate: float,
                     source: str, min_speech: float = MIN_BASELINE_SPEECH_S) -> Baseline:
    """A speaker baseline from a speaker's speech statistics, or :class:`BaselineError` when
    they hold less than ``min_speech`` seconds of speech."""
    seconds = 0.0 if raw is None else raw.n_frames / frame_rate
    if raw is None or seconds < min_speech:
        raise BaselineError(f"{source}: only {seconds:.1f} s of speech; a speaker baseline needs at least "
                            f"{min_speech:g} s (use more of this speaker's speech, or none)")
    return Baseline(speaker_stats(raw, global_stats, scale=scale), Normalisation("speaker", source, seconds))


#: How the note of a speaker baseline that was asked for and refused begins.
REFUSED = "speaker baseline refused"


def or_global(make, *, global_stats: FeatureStats) -> Baseline:
    """``make()``'s speaker baseline, or global statistics with the reason it was refused."""
    try:
        return make()
    except BaselineError as exc:
        return global_baseline(global_stats, note=f"{REFUSED}: {exc}")


def too_little_speech(source: str, seconds: float, needed: float) -> str:
    """Why a session's automatic choice fell on global statistics: "this recording: 29.9 s of
    speech, under the 30 s a baseline of its own needs". The seconds are rounded down, so a
    count just short of the rule never reads as meeting it."""
    counted = np.floor(seconds * 10) / 10
    return f"{source}: {counted:.1f} s of speech, under the {needed:g} s a baseline of its own needs"


def describe_files(paths) -> str:
    """"folder NAME (N files)" or "file NAME", for a group's :class:`Normalisation` source."""
    paths = [Path(p) for p in paths]
    if len(paths) == 1:
        return f"file {paths[0].name}"
    parents = {p.parent for p in paths}
    where = f"folder {next(iter(parents)).name}" if len(parents) == 1 else f"{len(parents)} folders"
    return f"{where} ({len(paths)} files)"


def span_text(span) -> str:
    """`` (12.0–45.0 s)`` for a time span, empty for none."""
    if span is None:
        return ""
    return f" ({span[0]:.1f}–{span[1]:.1f} s)"


def frames_in_span(n_frames: int, span, frame_rate: float) -> np.ndarray:
    """A boolean mask of the frames whose centres lie in ``span`` = (t0, t1) seconds."""
    t = np.arange(n_frames) / frame_rate
    return (t >= span[0]) & (t < span[1])
