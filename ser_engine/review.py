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

The review also holds the clinician's view of *who speaks* (format 2; a format-1 file, written
before, loads with none of it): the number of speakers chosen for the recording, their names
("Patient", "Clinician"), which of them is the patient, segments moved to another speaker
(by the segment's bounds, like a corrected label) and speakers merged into another. Speakers
are the engine's indices (0 for S1), numbered by first appearance: the same recording analysed
with the same count finds the same speakers, so the corrections apply again.

Format 3 adds what a reviewer writes and decides: a free-text note for the recording and notes
for stretches of it (a segment, by its bounds like a corrected label), and whether the
recording was marked *reviewed* (and when). The clinician tier's intervals can be split at a
time, merged with the next one and have a boundary moved (:meth:`Review.split`,
:meth:`Review.merge_next`, :meth:`Review.move_boundary`). Files of format 1 and 2 load
(:func:`migrate`): nothing in them is dropped, keys this version does not know are kept and
written back, and the first save in format 3 keeps the old file beside it
(``<sha256>.format2.json``), so an older SER Studio still finds the review it wrote.
"""

import dataclasses
import datetime
import json
from pathlib import Path

from .atomic import atomic_write_bytes, atomic_write_text
from .errors import SerError
from .paths import user_data_dir
from .results import NO_SPEECH, speaker_name
from .segments import file_sha256

FORMAT_VERSION = 3
#: The keys of a review file this version writes (any other key is kept as it was read).
_KNOWN_KEYS = frozenset({"format", "format_version", "audio", "model", "created", "updated", "clinician", "speakers",
                         "notes", "reviewed", "reviewed_at"})
#: The number of speakers a user can choose: a count, or :data:`ESTIMATE` (the engine guesses).
ESTIMATE = "estimate"
_TOL = 1e-3  # seconds: bounds closer than this are the same bound
#: The shortest clinician interval a split or a boundary move leaves (seconds).
MIN_INTERVAL_S = 0.02


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
class Note:
    """The clinician's note on the stretch ``[start, end]`` (a segment, by its bounds)."""

    start: float
    end: float
    text: str

    def to_dict(self):
        return {"start": round(self.start, 3), "end": round(self.end, 3), "text": self.text}


@dataclasses.dataclass
class SpeakerMove:
    """A segment (by its bounds) the clinician gave to another speaker."""

    start: float
    end: float
    speaker: int

    def to_dict(self):
        return {"start": round(self.start, 3), "end": round(self.end, 3), "speaker": speaker_name(self.speaker)}


def named_label(index, name):
    """What speaker ``index`` is called once given ``name``: its spaces tidied; empty: ``S1``, …"""
    return " ".join(str(name or "").split()) or speaker_name(int(index))


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
    speaker_count : int, "estimate" or None
        The number of speakers the user chose for this recording (None: not chosen).
    speaker_names : dict
        ``{speaker index: name}`` the user gave.
    patient : int or None
        The speaker who is the patient (shown first).
    speaker_moves : list of SpeakerMove
        Segments given to another speaker, sorted by start.
    speaker_merges : dict
        ``{speaker index: index it was merged into}``.
    note : str
        The clinician's note on the whole recording ("" for none).
    segment_notes : list of Note
        Notes on stretches (segments, by their bounds), sorted by start.
    reviewed : bool
        The clinician marked the recording reviewed; ``reviewed_at`` says when (ISO 8601).
    extra : dict
        Keys of the file this version does not know, written back as they were.
    loaded_format : int
        The format the file was read in (:data:`FORMAT_VERSION` for a new review).
    path : Path or None
        Where it is saved (None: the default place, ``review_path(audio_sha256)``).
    """

    audio_sha256: str
    audio_name: str = ""
    model_id: str | None = None
    model_version: str | None = None
    intervals: list = dataclasses.field(default_factory=list)
    created: str | None = None
    updated: str | None = None
    path: Path | None = None
    speaker_count: int | str | None = None
    speaker_names: dict = dataclasses.field(default_factory=dict)
    patient: int | None = None
    speaker_moves: list = dataclasses.field(default_factory=list)
    speaker_merges: dict = dataclasses.field(default_factory=dict)
    note: str = ""
    segment_notes: list = dataclasses.field(default_factory=list)
    reviewed: bool = False
    reviewed_at: str | None = None
    extra: dict = dataclasses.field(default_factory=dict)
    loaded_format: int = FORMAT_VERSION

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

    # -- the clinician's segments: split, merge, boundaries ---------------------------------

    def interval_at(self, t):
        """The clinician interval covering ``t`` (its start included), or None."""
        for iv in self.intervals:
            if iv.start - _TOL <= t < iv.end:
                return iv
        return None

    def boundaries(self):
        """Every start and end of the clinician tier, sorted, each once."""
        out: list[float] = []
        for t in sorted([iv.start for iv in self.intervals] + [iv.end for iv in self.intervals]):
            if not out or t - out[-1] >= _TOL:
                out.append(t)
        return out

    def split(self, t):
        """Cut the clinician interval covering ``t`` in two at ``t`` (both keep its label; a
        note on it stays with the first part). Returns the two intervals.

        Raises ValueError when no interval covers ``t``, or either part would be shorter than
        :data:`MIN_INTERVAL_S`."""
        iv = self.interval_at(t)
        if iv is None:
            raise ValueError(f"no label of yours at {t:.2f} s to split")
        if t - iv.start < MIN_INTERVAL_S or iv.end - t < MIN_INTERVAL_S:
            raise ValueError(f"{t:.2f} s is at the edge of your label {iv.label!r}: nothing to split")
        first, second = Interval(iv.start, float(t), iv.label), Interval(float(t), iv.end, iv.label)
        self._renote(iv.start, iv.end, first.start, first.end)
        self.intervals = sorted([i for i in self.intervals if i is not iv] + [first, second], key=lambda i: i.start)
        return first, second

    def merge_next(self, t):
        """Merge the clinician interval covering ``t`` with the next one into one interval with
        the first's label (a gap between them is covered too; their notes are joined). Returns
        the merged interval; raises ValueError when there is no interval at ``t`` or after it."""
        iv = self.interval_at(t)
        if iv is None:
            raise ValueError(f"no label of yours at {t:.2f} s to merge")
        later = [i for i in self.intervals if i.start >= iv.end - _TOL and i is not iv]
        if not later:
            raise ValueError(f"your label {iv.label!r} has no label after it to merge with")
        nxt = min(later, key=lambda i: i.start)
        merged = Interval(iv.start, nxt.end, iv.label)
        texts = [n.text for n in self.segment_notes if _same(n, iv) or _same(n, nxt)]
        self.segment_notes = [n for n in self.segment_notes if not (_same(n, iv) or _same(n, nxt))]
        if texts:
            self.segment_notes.append(Note(merged.start, merged.end, "\n".join(texts)))
            self.segment_notes.sort(key=lambda n: n.start)
        self.intervals = sorted([i for i in self.intervals if i is not iv and i is not nxt] + [merged],
                                key=lambda i: i.start)
        return merged

    def move_boundary(self, t, new_t):
        """Move the clinician tier's boundary at ``t`` (an interval's start or end; a boundary
        two touching intervals share moves for both) to ``new_t``, kept inside its neighbours
        so no interval becomes shorter than :data:`MIN_INTERVAL_S` or overlaps another. Notes
        on the intervals follow. Returns where the boundary went; raises ValueError when there
        is no boundary at ``t``."""
        ending = [iv for iv in self.intervals if abs(iv.end - t) < _TOL]
        starting = [iv for iv in self.intervals if abs(iv.start - t) < _TOL]
        if not ending and not starting:
            raise ValueError(f"no boundary of your labels at {t:.2f} s")
        lo = max([iv.start + MIN_INTERVAL_S for iv in ending]
                 + [iv.end for iv in self.intervals if iv.end <= t + _TOL and iv not in ending and iv not in starting],
                 default=0.0)
        hi = min([iv.end - MIN_INTERVAL_S for iv in starting]
                 + [iv.start for iv in self.intervals if iv.start >= t - _TOL and iv not in ending
                    and iv not in starting], default=float("inf"))
        new_t = float(min(max(new_t, lo), hi))
        for iv in ending:
            self._renote(iv.start, iv.end, iv.start, new_t)
            iv.end = new_t
        for iv in starting:
            self._renote(iv.start, iv.end, new_t, iv.end)
            iv.start = new_t
        self.intervals.sort(key=lambda i: i.start)
        return new_t

    # -- notes and the reviewed state ----------------------------------------------------------

    def set_note(self, text):
        """The note on the whole recording ("" removes it)."""
        self.note = str(text or "").strip()

    def note_for(self, start, end):
        """The note on exactly ``[start, end]`` ("" when none)."""
        for n in self.segment_notes:
            if abs(n.start - start) < _TOL and abs(n.end - end) < _TOL:
                return n.text
        return ""

    def set_segment_note(self, start, end, text):
        """The note on ``[start, end]`` (a segment, by its bounds; "" removes it)."""
        if end <= start:
            raise ValueError(f"empty interval {start}-{end}")
        text = str(text or "").strip()
        self.segment_notes = [n for n in self.segment_notes
                              if not (abs(n.start - start) < _TOL and abs(n.end - end) < _TOL)]
        if text:
            self.segment_notes.append(Note(float(start), float(end), text))
            self.segment_notes.sort(key=lambda n: n.start)

    def set_reviewed(self, reviewed, *, when=None):
        """Mark the recording reviewed (``when``: an ISO time, default now) or not."""
        self.reviewed = bool(reviewed)
        self.reviewed_at = (when or _now()) if self.reviewed else None

    def has_corrections(self):
        """True when the clinician labelled, noted or corrected who speaks."""
        return bool(self.intervals or self.note or self.segment_notes or self.has_speaker_corrections())

    def _renote(self, start, end, new_start, new_end):
        for n in self.segment_notes:
            if abs(n.start - start) < _TOL and abs(n.end - end) < _TOL:
                n.start, n.end = float(new_start), float(new_end)
        self.segment_notes.sort(key=lambda n: n.start)

    # -- who speaks --------------------------------------------------------------------------

    def resolve(self, speaker):
        """The speaker that ``speaker`` is after merges (None stays None)."""
        seen = set()
        while speaker in self.speaker_merges and speaker not in seen:
            seen.add(speaker)
            speaker = self.speaker_merges[speaker]
        return speaker

    def speaker_of(self, segment):
        """The speaker of ``segment`` after the clinician's moves and merges (None: none)."""
        for mv in self.speaker_moves:
            if abs(mv.start - segment.start) < _TOL and abs(mv.end - segment.end) < _TOL:
                return self.resolve(mv.speaker)
        return self.resolve(getattr(segment, "speaker", None))

    def speaker_label(self, index):
        """The name the user gave speaker ``index``, else ``S1``, ``S2``, …"""
        return self.speaker_names.get(index) or speaker_name(index)

    def rename_speaker(self, index, name):
        """Call speaker ``index`` ``name`` (an empty name, or its own number: back to ``S1``, …)."""
        label = named_label(index, name)
        if label != speaker_name(int(index)):
            self.speaker_names[int(index)] = label
        else:
            self.speaker_names.pop(int(index), None)

    def move_segment(self, start, end, speaker, *, found=None):
        """Give the segment ``[start, end]`` to ``speaker``. Giving it back to the speaker the
        analysis found (``found``, after merges) removes the move."""
        self.speaker_moves = [m for m in self.speaker_moves
                              if not (abs(m.start - start) < _TOL and abs(m.end - end) < _TOL)]
        if found is None or self.resolve(found) != self.resolve(speaker):
            self.speaker_moves.append(SpeakerMove(float(start), float(end), int(speaker)))
            self.speaker_moves.sort(key=lambda m: m.start)

    def merge_speakers(self, source, into):
        """Speaker ``source`` is ``into`` from now on: their segments, and the patient if it
        was ``source``. Raises ValueError for a speaker merged into themself."""
        source, into = self.resolve(int(source)), self.resolve(int(into))
        if source == into:
            raise ValueError(f"{self.speaker_label(source)} cannot be merged into themself")
        self.speaker_merges[source] = into
        if self.patient == source:
            self.patient = into

    def set_patient(self, index):
        """Speaker ``index`` is the patient (None: nobody chosen)."""
        self.patient = None if index is None else self.resolve(int(index))

    def speakers_in(self, segments):
        """The speakers of ``segments`` after moves and merges, in order of first appearance,
        the patient first."""
        order = list(dict.fromkeys(k for k in (self.speaker_of(s) for s in segments) if k is not None))
        if self.patient in order:
            order.remove(self.patient)
            order.insert(0, self.patient)
        return order

    def segments_of(self, segments, speaker):
        """The segments of ``speaker`` (after moves and merges)."""
        return [s for s in segments if self.speaker_of(s) == speaker]

    def has_speaker_corrections(self):
        """True when a segment was moved or speakers were merged (names and the patient are
        not corrections of what the analysis found)."""
        return bool(self.speaker_moves or self.speaker_merges)

    # -- applying -------------------------------------------------------------------------

    def effective_segments(self, segments, *, only_segments=False):
        """The model segments with the clinician's labels laid over them: the corrected tier.

        ``only_segments``: leave out stretches no segment covers (``segments`` being one
        speaker's, the clinician's labels elsewhere are someone else's).

        Returns
        -------
        list of ``(start, end, label, source)`` with ``source`` "clinician" or "model",
        contiguous over the segments' span.
        """
        cuts = sorted({s.start for s in segments} | {s.end for s in segments}
                      | {iv.start for iv in self.intervals} | {iv.end for iv in self.intervals})
        out: list[tuple] = []
        si = 0
        for a, b in zip(cuts, cuts[1:], strict=False):
            if b - a <= 0:
                continue
            mid = (a + b) / 2
            clin = self.label_at(mid)
            while si < len(segments) - 1 and segments[si].end <= mid:
                si += 1
            model = segments[si].label if segments and segments[si].start <= mid < segments[si].end else None
            label, src = (clin, "clinician") if clin is not None else (model, "model")
            if label is None or (only_segments and model is None):
                continue
            if out and out[-1][2] == label and out[-1][3] == src and abs(out[-1][1] - a) < _TOL:
                out[-1] = (out[-1][0], b, label, src)
            else:
                out.append((a, b, label, src))
        return out

    def summary(self, segments, labels, *, duration=None, only_segments=False):
        """The :class:`~ser_engine.summary.Summary` of the corrected tier (``only_segments``:
        see :meth:`effective_segments`; for one speaker's segments)."""
        from .summary import summarise

        eff = []
        for a, b, lab, src in self.effective_segments(segments, only_segments=only_segments):
            # where the clinician did not correct, the model's estimate stands, spread over the
            # emotions as in its answer; a clinician's label counts whole
            probs = _probabilities_at(segments, (a + b) / 2) if src == "model" else None
            eff.append(_Span(a, b, lab, probs))
        return summarise(eff, labels, duration=duration)

    # -- persistence ----------------------------------------------------------------------

    def to_dict(self):
        d = dict(self.extra)
        d.update({"format": "ser-studio-review", "format_version": FORMAT_VERSION,
                  "audio": {"sha256": self.audio_sha256, "name": self.audio_name},
                  "model": {"id": self.model_id, "version": self.model_version},
                  "created": self.created, "updated": self.updated,
                  "clinician": [iv.to_dict() for iv in self.intervals],
                  "speakers": self.speakers_dict(),
                  "notes": {"recording": self.note, "segments": [n.to_dict() for n in self.segment_notes]},
                  "reviewed": self.reviewed, "reviewed_at": self.reviewed_at})
        return d

    def speakers_dict(self):
        """The speaker part of the file (format 2): count, names, patient, moves, merges."""
        return {"count": self.speaker_count,
                "names": {speaker_name(k): v for k, v in sorted(self.speaker_names.items())},
                "patient": None if self.patient is None else speaker_name(self.patient),
                "moves": [m.to_dict() for m in self.speaker_moves],
                "merges": {speaker_name(k): speaker_name(v) for k, v in sorted(self.speaker_merges.items())}}

    @classmethod
    def from_dict(cls, d, *, path=None):
        """A review from its JSON form, of any format up to :data:`FORMAT_VERSION` (older ones
        through :func:`migrate`)."""
        loaded = _format_of(d)
        d = migrate(d)
        model = d.get("model") or {}
        ivs = [Interval(float(i["start"]), float(i["end"]), str(i["label"])) for i in d.get("clinician", [])]
        sp = d.get("speakers") or {}
        patient = sp.get("patient")
        return cls(d["audio"]["sha256"], d["audio"].get("name", ""), model.get("id"), model.get("version"),
                   sorted(ivs, key=lambda i: i.start), d.get("created"), d.get("updated"),
                   Path(path) if path else None, speaker_count=_count(sp.get("count")),
                   speaker_names={_index(k): str(v) for k, v in (sp.get("names") or {}).items()},
                   patient=None if patient is None else _index(patient),
                   speaker_moves=sorted((SpeakerMove(float(m["start"]), float(m["end"]), _index(m["speaker"]))
                                         for m in sp.get("moves") or []), key=lambda m: m.start),
                   speaker_merges={_index(k): _index(v) for k, v in (sp.get("merges") or {}).items()},
                   note=_text(d["notes"].get("recording")),
                   segment_notes=sorted((_note(n) for n in d["notes"].get("segments") or []), key=lambda n: n.start),
                   reviewed=_flag(d.get("reviewed")), reviewed_at=_time(d.get("reviewed_at")),
                   extra={k: v for k, v in d.items() if k not in _KNOWN_KEYS}, loaded_format=loaded)


def _format_of(d):
    """The format version of a review file's dict (ValueError: not a review, or a newer one)."""
    if not isinstance(d, dict) or d.get("format") != "ser-studio-review":
        raise ValueError("not a SER Studio review file")
    version = d.get("format_version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"not a format version: {version!r}")
    if version > FORMAT_VERSION:
        raise ValueError(f"made by a newer SER Studio (format {version})")
    return version


def migrate(d):
    """A review file's dict of format 1, 2 or 3 as format 3 (a new dict; nothing is dropped).

    Format 1 (before speakers were reviewed) gets no speaker corrections; formats 1 and 2
    (before notes and the reviewed state) get no notes and "not reviewed".
    """
    version = _format_of(d)
    out = dict(d)
    if version < 2:
        out.setdefault("speakers", {})
    if version < 3:
        out.setdefault("notes", {"recording": "", "segments": []})
        out.setdefault("reviewed", False)
        out.setdefault("reviewed_at", None)
    if not isinstance(out.get("notes"), dict):
        raise ValueError(f"notes are not a mapping: {out.get('notes')!r}")
    out["format_version"] = FORMAT_VERSION
    return out


def _same(note, interval):
    return abs(note.start - interval.start) < _TOL and abs(note.end - interval.end) < _TOL


def _text(value):
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"a note is not text: {value!r}")
    return value.strip()


def _note(d):
    start, end = float(d["start"]), float(d["end"])
    if not end > start:
        raise ValueError(f"a note on an empty stretch: {start}-{end}")
    return Note(start, end, _text(d["text"]))


def _flag(value):
    if not isinstance(value, bool):
        raise ValueError(f"reviewed is not true or false: {value!r}")
    return value


def _time(value):
    if value is None:
        return None
    datetime.datetime.fromisoformat(str(value))  # ValueError for anything but a time
    return str(value)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _index(name):
    """``"S3"`` -> 2 (ValueError for anything else)."""
    text = str(name)
    if not text.startswith("S") or not text[1:].isdigit() or int(text[1:]) < 1:
        raise ValueError(f"not a speaker: {name!r}")
    return int(text[1:]) - 1


def _count(value):
    """A stored number of speakers: a whole number from 1, :data:`ESTIMATE` or None."""
    if value is None or value == ESTIMATE:
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"not a number of speakers: {value!r}")
    return value


@dataclasses.dataclass
class _Span:
    start: float
    end: float
    label: str
    probabilities: dict | None = None


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
    now = _now()
    review.created = review.created or now
    review.updated = now
    try:
        if review.loaded_format < FORMAT_VERSION:
            _keep_older(target, review.loaded_format)
        atomic_write_text(target, json.dumps(review.to_dict(), indent=1, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise ReviewError(f"{target}: could not be written ({_first_line(exc)})") from None
    review.loaded_format = FORMAT_VERSION
    if path:
        review.path = Path(path)
    return target


def older_copy(target, version):
    """Where the first save in today's format keeps a review file of format ``version``."""
    target = Path(target)
    return target.with_name(f"{target.stem}.format{version}{target.suffix}")


def _keep_older(target, version):
    """Keep the file an older SER Studio wrote (once) before it is written in today's format."""
    if not target.exists():
        return
    copy = older_copy(target, version)
    if not copy.exists():
        atomic_write_bytes(copy, target.read_bytes())


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


__all__ = ["ESTIMATE", "FORMAT_VERSION", "MIN_INTERVAL_S", "NO_SPEECH", "Interval", "Note", "Review", "ReviewError",
           "SpeakerMove", "delete_review", "for_timeline", "load_review", "migrate", "older_copy", "review_path",
           "reviews_dir", "save_review"]
