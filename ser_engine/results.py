"""Typed results of an analysis, and their JSON form (the CLI's ``--json`` schema)."""

import dataclasses

import numpy as np


@dataclasses.dataclass
class Segment:
    """A stretch of a recording with one label. Times in seconds."""

    start: float
    end: float
    label: str
    confidence: float
    probabilities: dict

    def to_dict(self, *, probabilities=False):
        d = {"start": round(self.start, 3), "end": round(self.end, 3), "label": self.label,
             "confidence": round(self.confidence, 4)}
        if probabilities:
            d["probabilities"] = {k: round(v, 4) for k, v in self.probabilities.items()}
        return d


@dataclasses.dataclass
class Result:
    """The file-level answer for one recording.

    ``probabilities`` are calibrated (temperature scaling) and sum to 1;
    ``confidence`` is the probability of ``label``; ``uncertain`` is True when it is below
    the bundle's threshold.
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


def probs_dict(labels, probs):
    return {lab: float(p) for lab, p in zip(labels, np.asarray(probs, float))}
