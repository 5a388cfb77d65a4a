"""What one line says about a whole recording: its label and the number beside it.

There is one answer per recording, the engine's (:mod:`ser_engine.labelling`): each emotion's
estimated share of the speech time, the label the largest share. The headline shows that
label and that share; the bars are the same shares; the summary chart the same shares in
seconds. Only the wording differs with length: a clip of one utterance (up to
:data:`~ser_engine.results.LONG_RECORDING_S`) says "confidence 83%" (for one utterance the
share is the probability of the emotion), a session says "40% of speech". The queue, the
panel's headline and the summary chart all read it from here, so they never disagree.
"""

import dataclasses

from ser_engine.results import LONG_RECORDING_S, NO_SPEECH, is_session
from ser_engine.vad import too_noisy

__all__ = ["LONG_RECORDING_S", "Headline", "headline", "is_long", "share_headline", "summary_of", "too_noisy"]


@dataclasses.dataclass(frozen=True)
class Headline:
    """``label`` (an emotion, or "no speech" when the recording has none), ``value`` in [0, 1]
    or None, ``kind`` "confidence" (clip) or "share" (session), ``uncertain``; ``patient``
    when it is the patient's answer (their share of their own speech time), not everyone's."""

    label: str
    value: float | None
    kind: str
    uncertain: bool = False
    patient: bool = False

    def value_text(self):
        if self.value is None:
            return ""
        if self.kind == "confidence":
            return f"{self.value:.0%}"
        return f"{self.value:.0%} · patient" if self.patient else f"{self.value:.0%} of speech"

    def value_words(self):
        """:meth:`value_text` in words, for a tooltip."""
        if self.patient and self.value is not None:
            return f"{self.value:.0%} of the patient's speech"
        return self.value_text()


#: A session is summarised by its shares of speech time (one rule for the engine and the window).
is_long = is_session


def summary_of(result, labels=None):
    """The model's :class:`~ser_engine.summary.Summary` of a recording: its answer's shares of
    the speech time (:meth:`ser_engine.results.Timeline.summary`)."""
    return result.summary()


def share_headline(summary, *, uncertain_below, noisy=False, patient=False):
    """The :class:`Headline` of one speaker's speech (a :class:`~ser_engine.summary.Summary`
    of their segments): the emotion with the largest share of their speech time, uncertain
    below the model's threshold or in a recording too noisy to label (the report's rule too:
    :meth:`ser_engine.summary.Summary.top`)."""
    label, share = summary.top()
    return Headline(label, share, "share", summary.answer_uncertain(uncertain_below=uncertain_below, noisy=noisy),
                    patient)


def headline(result):
    """The :class:`Headline` of a recording's result."""
    kind = "share" if is_long(result) else "confidence"
    if result.label in (None, NO_SPEECH):
        return Headline(NO_SPEECH, None, kind)
    return Headline(result.label, result.confidence, kind, bool(result.uncertain))
