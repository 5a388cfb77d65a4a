"""What one line says about a whole recording: its label and the number beside it.

A short clip (one utterance, up to :data:`LONG_RECORDING_S`) is answered by the model's
recording-level label and its calibrated confidence, as before. For a long recording that
pooled answer averages minutes of different moods into one, which tells a clinician little;
its line names instead the **dominant emotion**: the one holding the largest share of the
speech time in the timeline, and that share. The queue, the panel's headline and the
summary chart all read it from here, so they never disagree.
"""

import dataclasses

from ser_engine.results import NO_SPEECH

#: Recordings longer than this are sessions (dominant emotion), shorter ones clips.
LONG_RECORDING_S = 30.0


@dataclasses.dataclass(frozen=True)
class Headline:
    """``label`` (an emotion, or "no speech" when the recording has none), ``value`` in [0, 1]
    or None, ``kind`` "confidence" (clip) or "share" (session), ``uncertain``."""

    label: str
    value: float
    kind: str
    uncertain: bool = False

    def value_text(self):
        if self.value is None:
            return ""
        return f"{self.value:.0%}" if self.kind == "confidence" else f"{self.value:.0%} of speech"


def is_long(result):
    return float(getattr(result, "duration", 0.0) or 0.0) > LONG_RECORDING_S


def summary_of(result, labels=None):
    """The model tier's :class:`~ser_engine.summary.Summary` of a Result or Timeline."""
    from ser_engine.summary import summarise

    labels = tuple(getattr(result, "labels", None) or labels or result.probabilities.keys())
    return summarise(result.segments, labels, duration=result.duration)


def headline(result):
    """The :class:`Headline` of a Result or Timeline."""
    if is_long(result):
        summ = summary_of(result)
        if summ.speech_seconds <= 0:
            return Headline(NO_SPEECH, None, "share")
        label = max(summ.shares, key=lambda k: summ.shares[k])
        return Headline(label, summ.shares[label], "share")
    if result.label in (None, NO_SPEECH):  # a Timeline says None, a Result NO_SPEECH
        return Headline(NO_SPEECH, None, "confidence")
    return Headline(result.label, result.confidence, "confidence", bool(result.uncertain))
