"""Existing annotations imported as the clinician tier: Praat TextGrid, ELAN .eaf, Audacity labels.

People who review recordings often have them labelled already, in Praat, ELAN or Audacity.
:func:`read_annotations` reads such a file into its tiers (each a list of
:class:`~ser_engine.review.Interval`); :func:`import_tier` takes the tier the caller chose (the
tier names are listed for it when there are several), maps the labels to the model's emotions
and checks the intervals can be a clinician tier; :func:`apply_to_review` lays them into a
:class:`~ser_engine.review.Review`. The project's own exports (:mod:`ser_engine.exports`) read
back to the same tiers.

Formats
-------
- **TextGrid** (Praat's text formats, long or short; UTF-8 or UTF-16 with its byte-order mark),
  parsed by praatio. Interval tiers only: a point tier has no stretch of time to label, and
  Praat's binary format is refused with the fix (save as a text file).
- **ELAN .eaf**, parsed by pympi-ling: every tier, aligned or referring to a parent tier, in
  milliseconds.
- **Audacity label track** (File ▸ Export ▸ Export Labels): ``start<TAB>end<TAB>label`` per line
  in seconds; lines starting with ``\\`` (a label's frequency range) are skipped. One file is
  one tier, named after the file. Zero-length labels (points, such as the line naming the model
  that SER Studio's own export starts with) are skipped and counted.

The format is known from the content (a TextGrid or EAF header), not only from the name, so a
TextGrid saved as ``.txt`` still reads as one; other files are read as Audacity labels when
their name ends in ``.txt``, ``.tsv`` or ``.labels``.

Label mapping
-------------
A label matches an emotion of the model when, ignoring case, surrounding space and brackets
(``<sil>``, ``[laugh]``), it is the emotion's name or one of :data:`SYNONYMS`: the nouns
(anger, sadness, ...), the three-letter codes of the common corpora (IEMOCAP and CREMA-D:
``ang``, ``hap``, ``sad``, ``neu``, ``fea``, ``dis``, ``sur``), the four-letter short forms of
SER Studio's model card (``angr``, ``happ``, ...) and a few everyday words (joy, scared,
afraid, relaxed). Silence labels (``sil``, ``silence``, ``pause``, ``sp``, ``no speech``) become
"no speech". A label that matches nothing (``frustrated``, ``laughing``) is **kept as it is**
and reported: the clinician's tier holds it, its time counts under its own name in the
corrected summary, and nothing the annotator wrote is dropped.

Errors
------
Every failure is an :class:`~ser_engine.errors.AnnotationError` of one line naming the file and
the reason (unreadable, not a TextGrid, a tier that does not exist, labels that overlap, labels
past the end of the recording, ...), raised before anything is changed: a review is only
touched by :func:`apply_to_review`, and that returns what the review held before.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

from . import EMOTIONS
from .errors import AnnotationError
from .results import NO_SPEECH
from .review import Interval, Review

FORMATS = ("textgrid", "eaf", "audacity")
#: File name endings read as Audacity label tracks when the content is not a TextGrid or EAF.
AUDACITY_SUFFIXES = (".txt", ".tsv", ".labels")
#: Two bounds closer than this (seconds) are the same bound (ELAN stores milliseconds).
TOLERANCE_S = 1e-3
#: How far past the recording's end a label may reach and still be cut to the end (a file
#: made against a slightly longer copy of the audio); further, the file is for another recording.
END_SLACK_S = 0.5

#: Other words for each emotion (lower case). The emotion's own name always matches.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "neutral": ("neu", "neut", "neutrality"),
    "calm": ("calmness", "relaxed", "cal"),
    "happy": ("happiness", "hap", "happ", "joy", "joyful", "glad"),
    "sad": ("sadness", "sorrow"),
    "angry": ("anger", "ang", "angr", "mad"),
    "fearful": ("fear", "fea", "afraid", "scared"),
    "disgust": ("disgusted", "dis", "disg"),
    "surprised": ("surprise", "sur", "surp"),
    NO_SPEECH: ("no-speech", "nospeech", "silence", "sil", "pause", "sp"),
}
_STRIP = " \t\r\n<>[]()\"'"


def normalise_label(text: str) -> str:
    """The form labels are compared in: lower case, no surrounding space, brackets or quotes,
    inner runs of space as one."""
    return re.sub(r"\s+", " ", text.strip(_STRIP).lower())


def map_label(text: str, labels: Sequence[str] = EMOTIONS) -> str | None:
    """The model's label that ``text`` names (an emotion in ``labels`` or "no speech"), else None."""
    key = normalise_label(text)
    for target in (*labels, NO_SPEECH):
        if key == target or key in SYNONYMS.get(target, ()):
            return target
    return None


@dataclasses.dataclass
class Tier:
    """One tier of an annotation file, as written: its labelled intervals in time order.

    Attributes
    ----------
    name : str
    intervals : list of Interval
        Empty labels (gaps) are left out.
    points : int
        Zero-length labels that were skipped (they mark an instant, not a stretch).
    """

    name: str
    intervals: list[Interval]
    points: int = 0


@dataclasses.dataclass
class AnnotationFile:
    """The tiers of an annotation file, in the file's order."""

    path: Path
    format: str
    tiers: list[Tier]

    @property
    def tier_names(self) -> list[str]:
        return [t.name for t in self.tiers]

    def tier(self, name: str | None = None) -> Tier:
        """The tier called ``name``; with ``None``, the only tier.

        Raises
        ------
        AnnotationError
            No such tier, or several and none named (the message lists them).
        """
        if name is None:
            if len(self.tiers) == 1:
                return self.tiers[0]
            raise AnnotationError(f"{self.path}: holds {len(self.tiers)} tiers ({_names(self.tier_names)}); "
                                  "choose the one to import")
        for t in self.tiers:
            if t.name == name:
                return t
        raise AnnotationError(f"{self.path}: has no tier {name!r} (its tiers: {_names(self.tier_names)})")


@dataclasses.dataclass
class ImportedTier:
    """A tier ready to be the clinician tier, and what was done to its labels.

    Attributes
    ----------
    source : Path
    format : str
    tier : str
        The tier's name in the file.
    intervals : list of Interval
        Mapped labels where they matched, the annotator's own words where they did not.
    mapped : dict
        ``{label as written: model label}`` for the labels that were renamed (``Anger`` -> angry).
    unmatched : dict
        ``{label: count}`` of the labels kept as written (no emotion of the model matched).
    points : int
        Zero-length labels skipped.
    clipped : int
        Labels cut back to the recording's end (they reached at most ``END_SLACK_S`` past it).
    """

    source: Path
    format: str
    tier: str
    intervals: list[Interval]
    mapped: dict[str, str]
    unmatched: dict[str, int]
    points: int = 0
    clipped: int = 0

    def describe(self) -> str:
        """One line for a status bar or a log: what was imported and what was kept as written."""
        n = len(self.intervals)
        text = f"{n} label{'s' if n != 1 else ''} from tier {self.tier!r} of {self.source.name}"
        if self.mapped:
            text += "; renamed " + ", ".join(f"{k} -> {v}" for k, v in self.mapped.items())
        if self.unmatched:
            text += "; kept as written (no emotion of the model): " + ", ".join(
                f"{k} ×{c}" if c > 1 else k for k, c in self.unmatched.items())
        if self.points:
            text += f"; {self.points} point label{'s' if self.points != 1 else ''} skipped"
        if self.clipped:
            text += f"; {self.clipped} cut at the recording's end"
        return text


# -- reading ---------------------------------------------------------------------------------


def read_annotations(path: str | Path) -> AnnotationFile:
    """Read every tier of a TextGrid, ELAN .eaf or Audacity label file.

    Raises
    ------
    AnnotationError
        The file cannot be read, is not one of the formats, or is damaged (one line: the file
        and the reason).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AnnotationError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise AnnotationError(f"{path}: is empty")
    text = _decode(path, data)
    head = text.lstrip()[:400]
    if "ooBinaryFile" in head:
        raise AnnotationError(f"{path}: is a binary Praat file; in Praat, save it as a text file")
    if "ooTextFile" in head:
        if "TextGrid" not in head:
            raise AnnotationError(f"{path}: is a Praat file but not a TextGrid")
        return AnnotationFile(path, "textgrid", _textgrid_tiers(path, text))
    if head.startswith("<") and "ANNOTATION_DOCUMENT" in text[:4000]:
        return AnnotationFile(path, "eaf", _eaf_tiers(path))
    if head.startswith("<"):
        raise AnnotationError(f"{path}: is XML but not an ELAN annotation document")
    if path.suffix.lower() == ".eaf":
        raise AnnotationError(f"{path}: is not an ELAN annotation document (no ANNOTATION_DOCUMENT)")
    if path.suffix.lower() == ".textgrid":
        raise AnnotationError(f"{path}: is not a Praat TextGrid (no 'File type = \"ooTextFile\"' header)")
    if path.suffix.lower() in AUDACITY_SUFFIXES:
        return AnnotationFile(path, "audacity", [_audacity_tier(path, text)])
    raise AnnotationError(f"{path}: unknown annotation format (expected a Praat .TextGrid, an ELAN .eaf "
                          "or an Audacity label track .txt)")


def _decode(path: Path, data: bytes) -> str:
    # Praat writes UTF-16 (with a byte-order mark) when a label needs it, else UTF-8 or ASCII
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16"
    else:
        codec = "utf-8-sig"
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        raise AnnotationError(f"{path}: is not text (neither UTF-8 nor UTF-16)") from None


def _textgrid_tiers(path: Path, text: str) -> list[Tier]:
    from praatio.utilities import textgrid_io

    try:
        # the parser, not openTextgrid: the text is decoded above (openTextgrid guesses UTF-16
        # first), and praatio's Textgrid object would refuse files Praat itself opens
        grid = textgrid_io.parseTextgridStr(text, includeEmptyIntervals=False)
        raw = [(str(t["name"]), t["class"], list(t["entries"])) for t in grid["tiers"]]
    except Exception as exc:  # praatio raises ParsingError, ValueError, IndexError, ... on damage
        raise AnnotationError(f"{path}: damaged TextGrid ({_first_line(exc)})") from None
    tiers = []
    for name, kind, entries in raw:
        if kind != "IntervalTier":
            continue
        try:
            spans = [(float(e[0]), float(e[1]), str(e[2])) for e in entries]
        except (TypeError, ValueError, IndexError):
            raise AnnotationError(f"{path}: damaged TextGrid (tier {name!r} has an interval without times)") from None
        tiers.append(_tier(path, name, spans))
    if not tiers:
        what = "only point tiers" if raw else "no tiers"
        raise AnnotationError(f"{path}: has {what}; a clinician tier needs an interval tier")
    return tiers


def _eaf_tiers(path: Path) -> list[Tier]:
    import pympi

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pympi warns about ELAN versions it has not seen
            eaf = pympi.Elan.Eaf(str(path))
            raw = []
            for name in eaf.get_tier_names():
                raw.append((str(name), [tuple(a[:3]) for a in eaf.get_annotation_data_for_tier(name)]))
    except Exception as exc:  # pympi raises bare Exception, KeyError, ... on a damaged file
        raise AnnotationError(f"{path}: damaged ELAN file ({_first_line(exc)})") from None
    if not raw:
        raise AnnotationError(f"{path}: has no tiers")
    tiers = []
    for name, anns in raw:
        spans = []
        for start, end, value in anns:
            if start is None or end is None:
                raise AnnotationError(f"{path}: tier {name!r} has an annotation without times (unaligned); "
                                      "align it in ELAN first")
            spans.append((float(start) / 1000.0, float(end) / 1000.0, "" if value is None else str(value)))
        tiers.append(_tier(path, name, spans))
    return tiers


def _audacity_tier(path: Path, text: str) -> Tier:
    spans = []
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("\\"):
            continue  # blank, or the frequency range of the label above
        fields = line.split("\t", 2)
        if len(fields) < 2:
            raise AnnotationError(f"{path}: line {no} is not 'start<TAB>end<TAB>label' (an Audacity label track)")
        try:
            start, end = float(fields[0]), float(fields[1])
        except ValueError:
            raise AnnotationError(f"{path}: line {no}: {fields[0]!r} / {fields[1]!r} are not times in seconds") \
                from None
        spans.append((start, end, fields[2] if len(fields) > 2 else ""))
    if not spans:
        raise AnnotationError(f"{path}: holds no labels")
    return _tier(path, path.stem, spans)


def _tier(path: Path, name: str, spans: Iterable[tuple[float, float, str]]) -> Tier:
    intervals, points = [], 0
    for start, end, label in spans:
        if not (math.isfinite(start) and math.isfinite(end)):
            raise AnnotationError(f"{path}: tier {name!r} has a label at a time that is not a number")
        if start < -TOLERANCE_S:
            raise AnnotationError(f"{path}: tier {name!r}: label {label.strip()!r} starts before 0 s ({start:g} s)")
        if end < start - TOLERANCE_S:
            raise AnnotationError(f"{path}: tier {name!r}: label {label.strip()!r} ends ({end:g} s) "
                                  f"before it starts ({start:g} s)")
        label = label.strip()
        if not label:
            continue  # a gap between labels
        if end - start < TOLERANCE_S:
            points += 1
            continue
        intervals.append(Interval(max(start, 0.0), end, label))
    intervals.sort(key=lambda iv: (iv.start, iv.end))
    return Tier(name, intervals, points)


# -- importing -------------------------------------------------------------------------------


def import_tier(path: str | Path, tier: str | None = None, *, labels: Sequence[str] = EMOTIONS,
                duration: float | None = None) -> ImportedTier:
    """One tier of an annotation file, ready to be a recording's clinician tier.

    Parameters
    ----------
    path : str or Path
        A TextGrid, ELAN .eaf or Audacity label file.
    tier : str or None
        The tier's name (:attr:`AnnotationFile.tier_names`); None when the file has one tier.
    labels : sequence of str
        The model's emotions: labels naming one of them (:func:`map_label`) are renamed to it,
        the others kept as written.
    duration : float or None
        The recording's length in seconds: labels reaching more than ``END_SLACK_S`` past it
        are refused (the file is for another recording), those within it cut to it.

    Raises
    ------
    AnnotationError
        Unreadable or damaged file, no such tier, several tiers and none chosen, a tier without
        labels, labels that overlap, labels past the recording's end.
    """
    source = read_annotations(path)
    chosen = source.tier(tier)
    if not chosen.intervals:
        raise AnnotationError(f"{source.path}: tier {chosen.name!r} holds no labels")
    out: list[Interval] = []
    mapped: dict[str, str] = {}
    unmatched: dict[str, int] = {}
    clipped = 0
    for iv in chosen.intervals:
        start, end = iv.start, iv.end
        if duration is not None:
            if end > duration + END_SLACK_S:
                raise AnnotationError(
                    f"{source.path}: tier {chosen.name!r} has labels up to {end:.2f} s but the recording lasts "
                    f"{duration:.2f} s; is the file for another recording?")
            if end > duration:
                end, clipped = float(duration), clipped + 1
                if end - start < TOLERANCE_S:
                    continue
        target = map_label(iv.label, labels)
        if target is None:
            unmatched[iv.label] = unmatched.get(iv.label, 0) + 1
            target = iv.label
        elif target != iv.label:
            mapped[iv.label] = target
        out.append(Interval(start, end, target))
    for a, b in itertools.pairwise(out):
        if b.start < a.end - TOLERANCE_S:
            raise AnnotationError(
                f"{source.path}: tier {chosen.name!r}: labels {a.label!r} ({a.start:.2f}-{a.end:.2f} s) and "
                f"{b.label!r} ({b.start:.2f}-{b.end:.2f} s) overlap; a clinician tier holds one label at a time")
    return ImportedTier(source.path, source.format, chosen.name, out, mapped, unmatched, chosen.points, clipped)


def apply_to_review(review: Review, imported: ImportedTier, *, replace: bool = True) -> list[Interval]:
    """Make ``imported`` the clinician tier of ``review`` (in memory; saving is the caller's).

    Parameters
    ----------
    replace : bool
        True: the imported tier replaces the clinician's labels. False: it is laid over them
        (where both label a stretch, the imported label wins; elsewhere the old labels stay).

    Returns
    -------
    list of Interval
        The labels the review held before, so the caller can undo.
    """
    before = [dataclasses.replace(iv) for iv in review.intervals]
    if replace:
        review.clear_all()
    for iv in imported.intervals:
        review.set_label(iv.start, iv.end, iv.label)
    return before


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names) or "none"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


__all__ = ["AUDACITY_SUFFIXES", "END_SLACK_S", "FORMATS", "SYNONYMS", "AnnotationFile", "ImportedTier", "Tier",
           "apply_to_review", "import_tier", "map_label", "normalise_label", "read_annotations"]
