"""The clinician's review of a recording: a second tier of labels, kept beside the audio,
never in it.

A review is a JSON file keyed by the sha256 of the audio file's bytes, so it follows the
recording when the file is renamed or moved and never attaches to a different recording
under the same name. It lives in ``user_data_dir()/reviews/<sha256>.json`` unless the user
picks another path, and every save is atomic (a crash leaves the old review or the new one).

The clinician tier is a list of intervals ``(start, end, label)``. Correcting a model
segment stores an interval with that segment's bounds (:meth:`Review.set_label`); free
intervals (any bounds) are stored the same way, so a review made against one model stays
meaningful when the recording is analysed again with another.
"""

import dataclasses
import datetime
import json
from pathlib import Path

from .atomic import atomic_write_text
from .errors import SerError
from .paths import user_data_dir
from .results import NO_SPEECH
from .segments import file_sha256

FORMAT_VERSION = 1
_TOL = 1e-3  # seconds: bounds closer than this are the same bound


class ReviewError(SerError):
    """A review file could not be read or written."""


@dataclasses.dataclass
class Interval:
    start: float
    end: float
    label: str

    def to_dict(self):
        return {"start": round(self.start, 3), "end": round(self.end, 3), "label": self.label}


@dataclasses.dataclass
class Review:
    """The clinician tier of one recording.

    Attributes
    ----------
    audio_sha256 : str
    audio_name : str
        The file's name when the review was made (informative only).
    model_id, model_version : str or None
        The model whose segments the clinician reviewed.
    intervals : list of Interval
        Sorted by start; never overlapping.
    path : Path or None
        Where it is saved (None: the default place, ``review_path(audio_sha256)``).
    """

    audio_sha256: str
    audio_name: str = ""
    model_id: str = None
    model_version: str = None
    intervals: list = dataclasses.field(default_factory=list)
    created: str = None
    updated: str = None
    path: Path = None

    # -- editing -------------------------------------------------------------------------

    def set_label(self, start, end, label):
        """Give ``[start, end]`` the clinician label ``label`` (an emotion or "no speech").

        Intervals it overlaps are cut back (or removed), so the tier never overlaps.
        """
        if not label:
            raise ValueError("empty label")
        if end <= start:
            raise ValueError(f"empty interval {start}-{end}")
        self._cut(start, end)
        self.intervals.append(Interval(float(start), float(end), str(label)))
        self.intervals.sort(key=lambda i: i.start)

    def clear(self, start, end):
        """Remove the clinician labels within ``[start, end]`` (the model's label shows again)."""
        self._cut(start, end)

    def clear_all(self):
        self.intervals.clear()

    def label_for(self, start, end):
        """The clinician label set for exactly ``[start, end]`` (a corrected segment), or None."""
        for iv in self.intervals:
            if abs(iv.start - start) < _TOL and abs(iv.end - end) < _TOL:
                return iv.label
        return None

    def label_at(self, t):
        """The clinician label covering time ``t``, or None."""
        for iv in self.intervals:
            if iv.start <= t < iv.end:
                return iv.label
        return None

    def _cut(self, start, end):
        out = []
        for iv in self.intervals:
            if iv.end <= start + _TOL or iv.start >= end - _TOL:
                out.append(iv)
                continue
            if iv.start < start - _TOL:
                out.append(Interval(iv.start, start, iv.label))
            if iv.end > end + _TOL:
                out.append(Interval(end, iv.end, iv.label))
        self.intervals = sorted(out, key=lambda i: i.start)

    # -- applying -------------------------------------------------------------------------

    def effective_segments(self, segments):
        """The model segments with the clinician's labels laid over them: the corrected tier.

        Returns
        -------
        list of ``(start, end, label, source)`` with ``source`` "clinician" or "model",
        contiguous over the segments' span.
        """
        cuts = sorted({s.start for s in segments} | {s.end for s in segments}
                      | {iv.start for iv in self.intervals} | {iv.end for iv in self.intervals})
        out = []
        si = 0
        for a, b in zip(cuts, cuts[1:]):
            if b - a <= 0:
                continue
            mid = (a + b) / 2
            clin = self.label_at(mid)
            while si < len(segments) - 1 and segments[si].end <= mid:
                si += 1
            model = segments[si].label if segments and segments[si].start <= mid < segments[si].end else None
            label, src = (clin, "clinician") if clin is not None else (model, "model")
            if label is None:
                continue
            if out and out[-1][2] == label and out[-1][3] == src and abs(out[-1][1] - a) < _TOL:
                out[-1] = (out[-1][0], b, label, src)
            else:
                out.append((a, b, label, src))
        return out

    def summary(self, segments, labels, *, duration=None):
        """The :class:`~ser_engine.summary.Summary` of the corrected tier."""
        from .summary import summarise

        eff = []
        for a, b, lab, src in self.effective_segments(segments):
            # where the clinician did not correct, the model's estimate stands, spread over the
            # emotions as in its answer; a clinician's label counts whole
            probs = _probabilities_at(segments, (a + b) / 2) if src == "model" else None
            eff.append(_Span(a, b, lab, probs))
        return summarise(eff, labels, duration=duration)

    # -- persistence ----------------------------------------------------------------------

    def to_dict(self):
        return {"format": "ser-studio-review", "format_version": FORMAT_VERSION,
                "audio": {"sha256": self.audio_sha256, "name": self.audio_name},
                "model": {"id": self.model_id, "version": self.model_version},
                "created": self.created, "updated": self.updated,
                "clinician": [iv.to_dict() for iv in self.intervals]}

    @classmethod
    def from_dict(cls, d, *, path=None):
        if not isinstance(d, dict) or d.get("format") != "ser-studio-review":
            raise ValueError("not a SER Studio review file")
        if int(d.get("format_version", 0)) > FORMAT_VERSION:
            raise ValueError(f"made by a newer SER Studio (format {d.get('format_version')})")
        model = d.get("model") or {}
        ivs = [Interval(float(i["start"]), float(i["end"]), str(i["label"])) for i in d.get("clinician", [])]
        return cls(d["audio"]["sha256"], d["audio"].get("name", ""), model.get("id"), model.get("version"),
                   sorted(ivs, key=lambda i: i.start), d.get("created"), d.get("updated"),
                   Path(path) if path else None)


@dataclasses.dataclass
class _Span:
    start: float
    end: float
    label: str
    probabilities: dict = None


def _probabilities_at(segments, t):
    for s in segments:
        if s.start <= t < s.end:
            return s.probabilities or None
    return None


def reviews_dir():
    return user_data_dir() / "reviews"


def review_path(sha256):
    """The default place of the review of the audio whose bytes hash to ``sha256``."""
    return reviews_dir() / f"{sha256}.json"


def load_review(audio_path=None, *, sha256=None, path=None):
    """The saved review of a recording, or a new empty one when there is none.

    Parameters
    ----------
    audio_path : str or Path or None
        The recording (hashed unless ``sha256`` is given).
    sha256 : str or None
    path : str or Path or None
        A review file the user chose, instead of the default place.

    Raises
    ------
    ReviewError
        The review file exists but is not a readable review (one line: the file and why).
    """
    if sha256 is None and audio_path is not None:
        sha256 = file_sha256(audio_path)
    if sha256 is None and path is None:
        raise ValueError("load_review needs the audio, its sha256 or a review path")
    target = Path(path) if path else review_path(sha256)
    if not target.exists():
        if sha256 is None:
            raise ReviewError(f"{target}: no such review file")
        name = Path(audio_path).name if audio_path else ""
        return Review(sha256, name, path=Path(path) if path else None)
    try:
        review = Review.from_dict(json.loads(target.read_text(encoding="utf-8")), path=path)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:  # any damage to the file
        raise ReviewError(f"{target}: not a readable review ({_first_line(exc)})") from None
    if sha256 is not None and review.audio_sha256 != sha256:
        raise ReviewError(f"{target}: this review belongs to another recording (content hash differs)")
    return review


def save_review(review, path=None):
    """Write ``review`` atomically (to ``path``, its own ``path``, or the default place).

    Returns the path written.
    """
    target = Path(path or review.path or review_path(review.audio_sha256))
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    review.created = review.created or now
    review.updated = now
    try:
        atomic_write_text(target, json.dumps(review.to_dict(), indent=1, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise ReviewError(f"{target}: could not be written ({_first_line(exc)})") from None
    if path:
        review.path = Path(path)
    return target


def delete_review(review):
    """Remove the saved review file (the audio is untouched). Returns True if one existed."""
    target = Path(review.path or review_path(review.audio_sha256))
    try:
        target.unlink()
        return True
    except FileNotFoundError:
        return False


def for_timeline(timeline, *, path=None):
    """The review of an analysed recording (keyed by ``timeline.sha256``), stamped with its model."""
    sha = timeline.sha256 or file_sha256(timeline.path)
    review = load_review(timeline.path, sha256=sha, path=path)
    review.audio_name = review.audio_name or Path(timeline.path).name
    if review.model_id is None:
        review.model_id, review.model_version = timeline.model_id, timeline.model_version
    return review


def _first_line(exc):
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


__all__ = ["NO_SPEECH", "Interval", "Review", "ReviewError", "delete_review", "for_timeline", "load_review",
           "review_path", "reviews_dir", "save_review"]
