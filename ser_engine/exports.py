"""Exports of analysed recordings: CSV, JSON, Audacity labels, Praat TextGrid, ELAN EAF.

Every export carries the model tier and, when there is a review, the clinician tier; every
one names the model (id and version) that made it and includes the per-file summary. When the
recording's speakers were found, every export says who spoke each segment, as the clinician
corrected and named them (:class:`~ser_engine.review.Review`: segments moved, speakers merged,
"Patient"/"Clinician"; without a review, S1, S2, …):

- CSV: one row per segment with all probabilities, ``clinician_label``, its ``speaker`` and
  ``snr_db`` (how far its speech lies above the noise, dB; empty when not measurable), and on
  every row the columns ``model_id`` and ``model_version`` (so rows from many files and runs
  can be concatenated and filtered); ``row`` tells segment rows from ``summary`` rows (one
  per emotion + no speech, ``duration`` in seconds and ``share`` of the speech time),
  ``speaker_summary`` rows (the same per speaker, the patient first), ``clinician`` rows
  (clinician intervals that are not exactly a model segment), ``clinician_summary`` rows and
  ``error`` rows (files that could not be analysed, with the reason). A file's rows end with
  its ``summary`` row for ``no speech``.
- JSON: the timeline schema (:meth:`Timeline.to_dict`: ``snr_db``, ``speakers``) plus
  ``clinician``, ``clinician_summary`` and, with speakers, each speaker's ``name`` and
  ``patient``, each segment's ``speaker_name`` (and ``clinician_speaker`` where the clinician
  gave it to another speaker) and ``speaker_review`` (the corrections as the review holds
  them); a batch is JSON Lines, one object per file.
- Audacity: two label tracks, ``<name>.model.txt`` and ``<name>.clinician.txt``; each starts
  with a zero-length label at 0 s naming the model and the summary.
- TextGrid (praatio): interval tiers ``model``, ``clinician``, one per speaker (named as the
  clinician named them: that speaker's segments and their labels) and ``info`` (model +
  summary).
- EAF (pympi-ling): tiers ``model`` and ``clinician``, one per speaker with its participant
  set to the speaker's name, the audio linked, and header properties ``model_id``,
  ``model_version``, ``summary``.

A queue's per-file summary (:func:`summary_csv_text`, the window's "Summary CSV") has one row
per recording: status, the model's recording-level answer and probabilities, the dominant
emotion of the model tier, and the clinician's corrections (how many intervals, which labels,
the corrected tier's dominant emotion and its share of the speech time).

All files are written atomically (:mod:`ser_engine.atomic`) with the permissions of a saved
document (:data:`ser_engine.atomic.SHARED`: 0666 less the umask), the same for every format:
an export is made to be opened by other programs and people, unlike the app's own files.
"""

import csv
import io
import json
import tempfile
from pathlib import Path

from . import __version__
from .atomic import SHARED, atomic_write_bytes, atomic_write_text
from .errors import ExportError
from .results import NO_SPEECH, speaker_index, speaker_name
from .review import Review

FORMATS = ("csv", "json", "textgrid", "audacity", "eaf")
#: Formats that write files per recording (``--out`` is a folder for them).
PER_FILE_FORMATS = ("textgrid", "audacity", "eaf")
SUFFIX = {"csv": ".csv", "json": ".json", "textgrid": ".TextGrid", "audacity": ".txt", "eaf": ".eaf"}
BASE_FIELDS = ["file", "sha256", "model_id", "model_version", "row", "start", "end", "duration", "label",
               "confidence", "uncertain", "speaker", "snr_db", "emotion_mix"]
TAIL_FIELDS = ["clinician_label", "share", "error"]


def csv_fields(labels):
    """The CSV header for a model with ``labels``."""
    return BASE_FIELDS + [f"p_{lab}" for lab in labels] + TAIL_FIELDS


def _fmt(x, nd=3):
    return "" if x is None else f"{x:.{nd}f}"


def speakers_of(timeline, review=None):
    """The speakers of a recording as the clinician corrected them: ``[(index, name,
    segments)]``, the patient first, then by first appearance (empty when its speakers
    were not found)."""
    rv = _speaker_review(timeline, review)
    return [(k, rv.speaker_label(k), rv.segments_of(timeline.segments, k)) for k in rv.speakers_in(timeline.segments)]


def _speaker_review(timeline, review):
    """``review``, or an empty one: the speakers as the analysis found them."""
    return review if review is not None else Review(timeline.sha256 or "")


def csv_rows(timeline, review=None):
    """The CSV rows (dicts) of one analysed recording: segments, then summaries."""
    from .summary import summarise

    base = {"file": timeline.path, "sha256": timeline.sha256 or "", "model_id": timeline.model_id,
            "model_version": timeline.model_version}
    rv = _speaker_review(timeline, review)
    rows = []
    for s in timeline.segments:
        who = rv.speaker_of(s)
        r = dict(base, row="segment", start=_fmt(s.start), end=_fmt(s.end), duration=_fmt(s.end - s.start),
                 label=s.label, confidence=_fmt(s.confidence, 4),
                 uncertain=("" if not s.is_speech else int(bool(s.uncertain))),
                 speaker="" if who is None else rv.speaker_label(who), snr_db=_fmt(getattr(s, "snr_db", None), 1),
                 emotion_mix=_mix_of(timeline, s.speaker) if s.is_speech else "",
                 clinician_label=(review.label_for(s.start, s.end) or "") if review else "")
        for lab in timeline.labels:
            r[f"p_{lab}"] = _fmt(s.probabilities.get(lab), 4) if s.probabilities else ""
        rows.append(r)
    if review is not None:
        bounds = {(round(s.start, 3), round(s.end, 3)) for s in timeline.segments}
        for iv in review.intervals:
            if (round(iv.start, 3), round(iv.end, 3)) not in bounds:
                rows.append(dict(base, row="clinician", start=_fmt(iv.start), end=_fmt(iv.end),
                                 duration=_fmt(iv.end - iv.start), clinician_label=iv.label))
    if review is not None and review.intervals:
        summ = review.summary(timeline.segments, timeline.labels, duration=timeline.duration)
        for lab, secs, share in summ.rows():
            rows.append(dict(base, row="clinician_summary", label=lab, duration=_fmt(secs), share=_fmt(share, 4)))
    for k, name, segs in speakers_of(timeline, review):
        for lab, secs, share in summarise(segs, timeline.labels).rows()[:-1]:  # a speaker has no "no speech"
            rows.append(dict(base, row="speaker_summary", speaker=name, label=lab, duration=_fmt(secs),
                             share=_fmt(share, 4), emotion_mix=_mix_of(timeline, k)))
    # the model summary comes last and ends with the no-speech row: a file's record is
    # complete when that row is there (batch resume relies on it)
    for lab, secs, share in timeline.summary().rows():
        rows.append(dict(base, row="summary", label=lab, duration=_fmt(secs), share=_fmt(share, 4),
                         emotion_mix=getattr(timeline, "emotion_mix", None) or ""))
    return rows


def _mix_of(timeline, speaker):
    """Whose mix of emotions the probabilities of ``speaker``'s speech assume: that speaker's
    (each speaker's own mix is estimated from their own speech), else the recording's."""
    found = timeline.speaker_result(speaker)
    return (found.emotion_mix if found is not None else timeline.emotion_mix) or ""


def failure_row(failure):
    return {"file": failure.path, "row": "error", "error": failure.error}


def csv_text(items, labels, *, header=True):
    """CSV text of ``items``: ``(timeline, review)`` pairs and Failure objects."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=csv_fields(labels), lineterminator="\n", extrasaction="ignore")
    if header:
        w.writeheader()
    for item in items:
        if getattr(item, "ok", True) is False:
            w.writerow(failure_row(item))
        else:
            timeline, review = item
            w.writerows(csv_rows(timeline, review))
    return buf.getvalue()


def timeline_json(timeline, review=None):
    """The JSON object of one analysed recording (timeline + clinician tier + summaries)."""
    d = timeline.to_dict()
    d["exported_by"] = {"app": "SER Studio", "version": __version__}
    d["clinician"] = [iv.to_dict() for iv in review.intervals] if review else []
    d["clinician_summary"] = (review.summary(timeline.segments, timeline.labels, duration=timeline.duration).to_dict()
                              if review is not None and review.intervals else None)
    if timeline.speakers or any(s.speaker is not None for s in timeline.segments):
        _json_speakers(d, timeline, review)
    return d


def _json_speakers(d, timeline, review):
    """Names, the patient and the clinician's speaker corrections in a timeline's JSON."""
    rv = _speaker_review(timeline, review)
    for sp in d.get("speakers", []):
        k = speaker_index(sp["speaker"])
        sp["name"] = rv.speaker_label(rv.resolve(k))
        sp["patient"] = rv.patient is not None and rv.resolve(k) == rv.patient
        if rv.resolve(k) != k:
            sp["merged_into"] = speaker_name(rv.resolve(k))
    for seg_d, seg in zip(d["segments"], timeline.segments, strict=True):
        who = rv.speaker_of(seg)
        if who is None:
            continue
        seg_d["speaker_name"] = rv.speaker_label(who)
        if who != seg.speaker:
            seg_d["clinician_speaker"] = speaker_name(who)
    if review is not None:
        d["speaker_review"] = review.speakers_dict()


def summary_line(summary):
    """A one-line summary: "speech 42.0 s: angry 40%, calm 35%, ...; no speech 10.0 s"."""
    parts = [f"{k} {v:.0%}" for k, v in sorted(summary.shares.items(), key=lambda kv: -kv[1]) if v > 0]
    return (f"speech {summary.speech_seconds:.1f} s: {', '.join(parts) or 'none'}; "
            f"no speech {summary.no_speech_seconds:.1f} s")


def _stamp(timeline):
    return f"model {timeline.model_id} {timeline.model_version}; {summary_line(timeline.summary())}"


# -- one recording -------------------------------------------------------------------------


def export_timeline(timeline, dest, fmt, *, review=None):
    """Write one recording's export; ``dest`` is the file (for Audacity: the stem, two files).

    Returns
    -------
    list of Path : the files written.

    Raises
    ------
    ExportError
        The destination could not be written (one line: the file and why).
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    dest = Path(dest)
    try:
        if fmt == "csv":
            atomic_write_text(dest, csv_text([(timeline, review)], timeline.labels), mode=SHARED)
            return [dest]
        if fmt == "json":
            atomic_write_text(dest, json.dumps(timeline_json(timeline, review), indent=1, ensure_ascii=False) + "\n",
                              mode=SHARED)
            return [dest]
        if fmt == "textgrid":
            return [write_textgrid(dest, timeline, review)]
        if fmt == "audacity":
            return write_audacity(dest, timeline, review)
        return [write_eaf(dest, timeline, review)]
    except OSError as exc:
        raise ExportError(f"{dest}: could not be written ({str(exc).splitlines()[0] if str(exc) else exc})") from None


def _tiers(timeline, review):
    model = [(s.start, s.end, s.label) for s in timeline.segments if s.end > s.start]
    clinician = [(iv.start, iv.end, iv.label) for iv in review.intervals] if review else []
    return model, clinician


def _speaker_tiers(timeline, review):
    """``[(tier name, participant, [(start, end, label), ...])]``: one tier per speaker, named
    as the clinician named them (made unique beside the other tiers)."""
    used = {"model", "clinician", "info"}
    out = []
    for k, name, segs in speakers_of(timeline, review):
        tier = name if name not in used else f"{name} ({speaker_name(k)})"
        used.add(tier)
        out.append((tier, name, [(s.start, s.end, s.label) for s in segs if s.end > s.start]))
    return out


def audacity_paths(stem):
    stem = Path(stem)
    base = stem.with_suffix("") if stem.suffix.lower() == ".txt" else stem
    return base.with_name(base.name + ".model.txt"), base.with_name(base.name + ".clinician.txt")


def write_audacity(stem, timeline, review=None):
    """Two Audacity label tracks (``start\\tend\\tlabel`` per line), one per tier."""
    model, clinician = _tiers(timeline, review)
    stamp = f"0.000000\t0.000000\t{_stamp(timeline)}\n"
    out = []
    for path, tier in zip(audacity_paths(stem), (model, clinician), strict=True):
        text = stamp + "".join(f"{a:.6f}\t{b:.6f}\t{lab}\n" for a, b, lab in tier)
        atomic_write_text(path, text, mode=SHARED)
        out.append(path)
    return out


def write_textgrid(path, timeline, review=None):
    """A Praat TextGrid with interval tiers ``model``, ``clinician`` and ``info``."""
    from praatio import textgrid

    model, clinician = _tiers(timeline, review)
    end = max([timeline.duration] + [b for _, b, _ in model + clinician])
    tg = textgrid.Textgrid(minTimestamp=0.0, maxTimestamp=end)
    tg.addTier(textgrid.IntervalTier("model", model, 0.0, end))
    tg.addTier(textgrid.IntervalTier("clinician", clinician, 0.0, end))
    for tier, _, intervals in _speaker_tiers(timeline, review):
        tg.addTier(textgrid.IntervalTier(tier, intervals, 0.0, end))
    tg.addTier(textgrid.IntervalTier("info", [(0.0, end, _stamp(timeline))], 0.0, end))
    atomic_write_bytes(path, _saved_bytes(lambda p: tg.save(p, format="long_textgrid", includeBlankSpaces=True,
                                                            reportingMode="silence"), ".TextGrid"),
                       mode=SHARED)
    return Path(path)


def write_eaf(path, timeline, review=None):
    """An ELAN .eaf with tiers ``model`` and ``clinician``, the audio linked."""
    import pympi

    model, clinician = _tiers(timeline, review)
    eaf = pympi.Elan.Eaf(author="SER Studio")
    eaf.add_linked_file(str(Path(timeline.path).resolve()), mimetype=_mime(timeline.path))
    eaf.add_property("model_id", str(timeline.model_id))
    eaf.add_property("model_version", str(timeline.model_version))
    eaf.add_property("summary", summary_line(timeline.summary()))
    tiers = [("model", None, model), ("clinician", None, clinician)] + _speaker_tiers(timeline, review)
    for name, participant, tier in tiers:
        eaf.add_tier(name, part=participant)
        for a, b, lab in tier:
            s, e = int(round(a * 1000)), int(round(b * 1000))
            if e > s:
                eaf.add_annotation(name, s, e, lab)
    if "default" in eaf.get_tier_names():
        eaf.remove_tier("default")
    atomic_write_bytes(path, _saved_bytes(lambda p: eaf.to_file(p), ".eaf"), mode=SHARED)
    return Path(path)


# -- a queue: one row per file -----------------------------------------------------------------

SUMMARY_BASE = ["file", "path", "status", "duration_s", "label", "confidence", "uncertain", "normalisation",
                "normalised_with", "emotion_mix", "snr_db", "band_db", "speakers", "model_id", "model_version",
                "error"]
SUMMARY_TAIL = ["dominant", "dominant_share", "clinician_intervals", "clinician_labels", "clinician_dominant",
                "clinician_dominant_share"]


def summary_fields(labels):
    """The summary CSV's header for a model with ``labels``."""
    return SUMMARY_BASE + [f"p_{lab}" for lab in labels] + SUMMARY_TAIL


def _dominant(summ):
    if summ.speech_seconds <= 0:
        return NO_SPEECH, None
    label = max(summ.shares, key=lambda k: summ.shares[k])
    return label, summ.shares[label]


def summary_row(path, *, status, labels, duration=None, result=None, review=None, error=""):
    """One file's row of the summary CSV (a dict keyed by :func:`summary_fields`).

    ``result``: the analysed recording (a Timeline; None when not analysed); ``review``: its
    clinician :class:`~ser_engine.review.Review` or None.
    """
    from .summary import summarise

    row = {"file": Path(path).name, "path": str(path), "status": status,
           "duration_s": _fmt(duration if result is None else result.duration), "error": error or ""}
    if result is None:
        return row
    norm = result.normalisation
    row.update(label=result.label or NO_SPEECH, confidence=_fmt(result.confidence, 4),
               uncertain=str(bool(result.uncertain)).lower(),
               normalisation=getattr(norm, "mode", norm),
               normalised_with=norm.describe() if hasattr(norm, "describe") else str(norm),
               emotion_mix=getattr(result, "emotion_mix", None) or "",
               snr_db=_fmt(getattr(result, "snr_db", None), 1), band_db=_fmt(getattr(result, "band_db", None), 1),
               speakers="; ".join(name for _, name, _ in speakers_of(result, review)),
               model_id=result.model_id, model_version=result.model_version)
    for lab in labels:
        row[f"p_{lab}"] = _fmt(result.probabilities.get(lab, 0.0), 4)
    dominant, share = _dominant(summarise(result.segments, tuple(labels), duration=result.duration))
    row.update(dominant=dominant, dominant_share=_fmt(share, 4))
    intervals = review.intervals if review is not None else []
    row["clinician_intervals"] = len(intervals)
    row["clinician_labels"] = ";".join(dict.fromkeys(iv.label for iv in intervals))
    if intervals:
        corrected = review.summary(result.segments, tuple(labels), duration=result.duration)
        label, share = _dominant(corrected)
        row.update(clinician_dominant=label, clinician_dominant_share=_fmt(share, 4))
    return row


def summary_csv_text(rows, labels):
    """CSV text of :func:`summary_row` dicts."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=summary_fields(labels), lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def write_summary_csv(dest, rows, labels):
    """Write :func:`summary_csv_text` to ``dest`` (atomically, as every export).

    Raises
    ------
    ExportError
        ``dest`` could not be written (one line: the file and why).
    """
    try:
        atomic_write_text(dest, summary_csv_text(rows, labels), mode=SHARED)
    except OSError as exc:
        raise ExportError(f"{dest}: could not be written ({exc.strerror or exc})") from None
    return Path(dest)


def write_jsonl(dest, items):
    """A queue as JSON Lines: one :func:`timeline_json` per ``(timeline, review)`` pair and one
    ``{"path", "error"}`` object per Failure, in order."""
    lines = [json.dumps(item.to_dict() if getattr(item, "ok", True) is False else timeline_json(*item),
                        ensure_ascii=False) for item in items]
    try:
        atomic_write_text(dest, "\n".join(lines) + "\n", mode=SHARED)
    except OSError as exc:
        raise ExportError(f"{dest}: could not be written ({exc.strerror or exc})") from None
    return Path(dest)


def write_csv(dest, items, labels):
    """A queue's segments as one CSV (:func:`csv_text`)."""
    try:
        atomic_write_text(dest, csv_text(items, labels), mode=SHARED)
    except OSError as exc:
        raise ExportError(f"{dest}: could not be written ({exc.strerror or exc})") from None
    return Path(dest)


def _mime(path):
    ext = Path(path).suffix.lower()
    return {".wav": "audio/x-wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg"}.get(ext,
                                                                                                        "audio/*")


def _saved_bytes(save, suffix):
    """The bytes a library writes to a path (it cannot write to a string): a temporary file."""
    with tempfile.TemporaryDirectory(prefix="ser-export-") as tmp:
        p = str(Path(tmp) / f"out{suffix}")
        save(p)
        return Path(p).read_bytes()


__all__ = ["FORMATS", "NO_SPEECH", "PER_FILE_FORMATS", "SUFFIX", "audacity_paths", "csv_fields", "csv_rows",
           "csv_text", "export_timeline", "speakers_of", "summary_csv_text", "summary_fields", "summary_line",
           "summary_row", "timeline_json", "write_audacity", "write_csv", "write_eaf", "write_jsonl",
           "write_summary_csv", "write_textgrid"]
