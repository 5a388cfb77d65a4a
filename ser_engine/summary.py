"""Per-file summary of a timeline: how much of the speech time each emotion takes."""

import dataclasses

from .results import NO_SPEECH


@dataclasses.dataclass
class Summary:
    """Seconds per label and each emotion's share of the *speech* time.

    Attributes
    ----------
    seconds : dict
        Every emotion of the model (0 where absent), in the model's label order.
    shares : dict
        ``seconds[e] / speech_seconds`` (all 0 when there is no speech).
    speech_seconds, no_speech_seconds, duration : float
    """

    seconds: dict
    shares: dict
    speech_seconds: float
    no_speech_seconds: float
    duration: float

    def to_dict(self):
        return {"speech_seconds": round(self.speech_seconds, 3), "no_speech_seconds": round(self.no_speech_seconds, 3),
                "duration": round(self.duration, 3),
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
                "shares": {k: round(v, 4) for k, v in self.shares.items()}}

    def top(self):
        """``(label, share)`` of the emotion with the largest share of the speech time;
        ``(NO_SPEECH, None)`` when there is no speech."""
        if self.speech_seconds <= 0 or not self.shares:
            return NO_SPEECH, None
        label = max(self.shares, key=lambda lab: self.shares[lab])
        return label, float(self.shares[label])

    def answer_uncertain(self, *, uncertain_below, noisy=False):
        """Whether :meth:`top` is uncertain: its share below the model's threshold, or the
        recording too noisy to label (:func:`ser_engine.vad.too_noisy`)."""
        share = self.top()[1]
        return share is not None and (share < uncertain_below or bool(noisy))

    def rows(self):
        """``(label, seconds, share)`` per emotion, then the no-speech row (share of the whole file)."""
        out = [(k, self.seconds[k], self.shares[k]) for k in self.seconds]
        share = self.no_speech_seconds / self.duration if self.duration > 0 else 0.0
        return out + [(NO_SPEECH, self.no_speech_seconds, share)]


def summarise(segments, labels, *, duration=None):
    """The :class:`Summary` of labelled segments (model tier or clinician-corrected tier).

    A segment with ``probabilities`` (the model's) spreads its time over the emotions by them:
    the model's estimate of how much of that stretch each emotion takes, as in the recording's
    answer (:mod:`ser_engine.labelling`). A segment with a label only (the clinician's) counts
    whole for its label.

    Parameters
    ----------
    segments : iterable of objects with ``start``, ``end``, ``label`` (and ``probabilities``)
    labels : sequence of str
        The model's emotions; labels outside them (other than no speech) are counted too.
    duration : float or None
        The recording's length; defaults to the end of the last segment.
    """
    seconds = {lab: 0.0 for lab in labels}
    no_speech = 0.0
    end = 0.0
    for s in segments:
        d = max(s.end - s.start, 0.0)
        end = max(end, s.end)
        probs = getattr(s, "probabilities", None)
        if s.label == NO_SPEECH:
            no_speech += d
        elif probs:
            for lab, p in probs.items():
                seconds[lab] = seconds.get(lab, 0.0) + d * p
        else:
            seconds[s.label] = seconds.get(s.label, 0.0) + d
    return _summary(seconds, no_speech, end if duration is None else float(duration))


def speaker_turns(segments, speaker_of):
    """How often each speaker takes the floor: runs of their speech segments in time order,
    pauses between them included. ``speaker_of(segment)``: its speaker (after any clinician's
    corrections), None for none. Returns ``{speaker: turns}``."""
    counts: dict = {}
    previous = None
    for seg in segments:
        if seg.label == NO_SPEECH:
            continue
        k = speaker_of(seg)
        if k is not None and k != previous:
            counts[k] = counts.get(k, 0) + 1
        previous = k
    return counts


def answer_summary(probabilities, labels, *, speech_seconds, duration):
    """The :class:`Summary` of a recording's answer: its shares of the speech time, in seconds."""
    seconds = {lab: float(probabilities.get(lab, 0.0)) * speech_seconds for lab in labels}
    return _summary(seconds, max(duration - speech_seconds, 0.0), duration)


def _summary(seconds, no_speech, duration):
    speech = sum(seconds.values())
    shares = {k: (v / speech if speech > 0 else 0.0) for k, v in seconds.items()}
    return Summary(seconds, shares, speech, no_speech, duration)
