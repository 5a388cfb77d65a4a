"""Typed results of an analysis, and their JSON form (the CLI's ``--json`` schema)."""

import dataclasses

import numpy as np


#: The label of a stretch without speech (silence, pauses, background): never an emotion.
NO_SPEECH = "no speech"


@dataclasses.dataclass
class Segment:
    """A stretch of a recording with one label. Times in seconds.

    ``label`` is an emotion or :data:`NO_SPEECH`; a no-speech segment has ``confidence``
    None and no ``probabilities``. ``uncertain`` is True when the confidence is below the
    bundle's threshold (set by the long-recording analysis).
    """

    start: float
    end: float
    label: str
    confidence: float
    probabilities: dict
    uncertain: bool = False

    @property
    def is_speech(self):
        return self.label != NO_SPEECH

    @property
    def duration(self):
        return self.end - self.start

    def to_dict(self, *, probabilities=False, full=False):
        """JSON form; ``full`` adds ``uncertain`` and the probabilities (the timeline schema)."""
        conf = None if self.confidence is None else round(self.confidence, 4)
        d = {"start": round(self.start, 3), "end": round(self.end, 3), "label": self.label, "confidence": conf}
        if full:
            d["uncertain"] = bool(self.uncertain)
        if probabilities or full:
            d["probabilities"] = {k: round(v, 4) for k, v in (self.probabilities or {}).items()}
        return d

    @classmethod
    def from_dict(cls, d):
        return cls(float(d["start"]), float(d["end"]), d["label"], d.get("confidence"),
                   dict(d.get("probabilities") or {}), bool(d.get("uncertain", False)))


@dataclasses.dataclass
class Result:
    """The file-level answer for one recording.

    ``probabilities`` are calibrated (temperature scaling) and sum to 1;
    ``confidence`` is the probability of ``label``; ``uncertain`` is True when it is below
    the bundle's threshold. ``sha256`` (the file's content hash) is set by callers that
    key clinician reviews to it, off the GUI thread.
    """

    path: str
    label: str
    confidence: float
    probabilities: dict
    segments: list
    model_id: str
    model_version: str
    normalisation: str  # "global" (file alone) or "speaker" (speaker baseline)
    duration: float
    uncertain: bool = False
    sha256: str = None
    ok = True

    def to_dict(self, *, segments=True):
        d = {
            "path": self.path,
            "label": self.label,
            "confidence": round(self.confidence, 4),
            "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
            "segments": [s.to_dict() for s in self.segments] if segments else [],
            "model": {"id": self.model_id, "version": self.model_version},
            "normalisation": self.normalisation,
            "duration": round(self.duration, 3),
            "uncertain": self.uncertain,
        }
        return d


@dataclasses.dataclass
class Failure:
    """A recording that could not be analysed, with the reason (one line)."""

    path: str
    error: str
    ok = False

    def to_dict(self, **_):
        return {"path": self.path, "error": self.error}


@dataclasses.dataclass
class Timeline:
    """The analysis of a long recording: labelled segments covering it end to end.

    Attributes
    ----------
    segments : list of Segment
        In time order, contiguous from 0 to ``duration``; emotions and :data:`NO_SPEECH`.
    label, confidence, probabilities, uncertain
        The recording-level answer (speech-weighted over all analysis windows, as
        :class:`Result`), so a timeline answers everything a Result does.
    sha256 : str or None
        Hash of the file's bytes (the key of its clinician review).
    overview : ser_engine.stream.Overview or None
        Decimated waveform and log-mel for display (not serialised).
    """

    path: str
    duration: float
    segments: list
    labels: tuple
    model_id: str
    model_version: str
    normalisation: str
    label: str = None
    confidence: float = None
    probabilities: dict = dataclasses.field(default_factory=dict)
    uncertain: bool = False
    sha256: str = None
    overview: object = dataclasses.field(default=None, repr=False, compare=False)
    ok = True

    def summary(self):
        """Share of speech time per emotion, and the no-speech time (:class:`~ser_engine.summary.Summary`)."""
        from .summary import summarise

        return summarise(self.segments, self.labels, duration=self.duration)

    def to_dict(self, *, segments=True):
        return {
            "path": self.path,
            "label": self.label,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
            "uncertain": bool(self.uncertain),
            "duration": round(self.duration, 3),
            "sha256": self.sha256,
            "model": {"id": self.model_id, "version": self.model_version},
            "normalisation": self.normalisation,
            "labels": list(self.labels),
            "summary": self.summary().to_dict(),
            "segments": [s.to_dict(full=True) for s in self.segments] if segments else [],
        }

    @classmethod
    def from_dict(cls, d):
        return cls(path=d["path"], duration=float(d["duration"]),
                   segments=[Segment.from_dict(s) for s in d.get("segments", [])], labels=tuple(d["labels"]),
                   model_id=d["model"]["id"], model_version=d["model"]["version"],
                   normalisation=d.get("normalisation", "speaker"), label=d.get("label"),
                   confidence=d.get("confidence"), probabilities=dict(d.get("probabilities") or {}),
                   uncertain=bool(d.get("uncertain", False)), sha256=d.get("sha256"))


def probs_dict(labels, probs):
    return {lab: float(p) for lab, p in zip(labels, np.asarray(probs, float))}
