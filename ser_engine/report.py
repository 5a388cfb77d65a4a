"""The session report: a PDF of one to three A4 pages for the patient's record.

What it says, in this order: the recording (name, duration, content hash), when it was analysed,
the model (id, version) and the sentence that these are screening estimates, not a diagnosis;
the model's answer (the patient's, when the clinician chose the patient, then the whole
recording's: as the queue and the panel give them);
the timeline of both tiers (the model's segments in the emotion palette with their hatches and
names, the uncertain ones marked on a row of their own, and the clinician's labels from the saved
review); each emotion's share of the speech time as the model answers it
(:meth:`Timeline.summary`, the recording's one answer) and as the clinician corrected it
(:meth:`Review.summary`); the uncertain share of the speech time; each speaker's line when the
speakers were found (their answer, speaking time and turns after the clinician's speaker
corrections, as the window's speaker summaries); the normalisation and the signal-to-noise
ratio; the model's stated limits (its card's "## Limits" lines); and the clinician's notes,
when the review has any.

Why matplotlib's PDF backend: it is already a pinned dependency (training's report figures), it
needs no Qt (the engine never imports Qt, and the CLI writes reports with no display), it draws
the timeline with the same patterns the legend explains, and it embeds its own fonts (DejaVu Sans,
shipped with matplotlib), so the file reads the same on any machine and offline. Qt's printing
support would tie the report to the window; reportlab or a LaTeX toolchain would be a new
dependency for one page of text and a chart. Fonts are embedded as TrueType (``pdf.fonttype``
42), so the text can be selected, searched and extracted from the PDF.

The file is written atomically (:mod:`ser_engine.atomic`) with a saved document's permissions
(:data:`ser_engine.atomic.SHARED`): it is made to go into a record and be opened by others.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import math
import os
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .atomic import SHARED, atomic_write_bytes
from .errors import ExportError
from .palette import colour_for, hatch_for, text_colour
from .results import NO_SPEECH, UNCERTAIN_BELOW, describe_mix, speaker_title

#: Said on every page, in these words.
SCREENING = ("These are screening estimates made by an automatic model, not a diagnosis; "
             "read them beside the recording and the clinical picture.")
MAX_PAGES = 3
#: A4 portrait, inches.
PAGE = (8.27, 11.69)
_MARGIN_X, _TOP, _BOTTOM = 0.75, 0.7, 0.8
_BODY_PT, _SMALL_PT = 9.0, 7.5
_LINE = 1.45  # line height as a multiple of the font size
_WRAP = 100  # characters per body line (DejaVu Sans at 9 pt across 6.8 in)
#: Rows of the timeline picture at most; a long recording is cut into this many lines of time.
MAX_TIMELINE_ROWS = 6


@dataclasses.dataclass
class ShareRow:
    """One row of the table of shares: seconds and share of the speech time (no speech: of the file)."""

    label: str
    model_seconds: float
    model_share: float
    clinician_seconds: float
    clinician_share: float


@dataclasses.dataclass
class ReportContent:
    """Everything the report says, before it is drawn (the tests read it without a PDF).

    Attributes
    ----------
    title : str
    facts : list of (str, str)
        The recording, duration, analysis date, model, normalisation, SNR, ...
    shares : list of ShareRow
        The model's emotions, labels of the clinician's own, then no speech.
    uncertain_share : float or None
        Share of the speech time in segments marked uncertain (None: no speech).
    speakers : list of str
    limits : list of str
    notes : list of str
    corrected : bool
        Whether the clinician labelled anything.
    """

    title: str
    facts: list[tuple[str, str]]
    shares: list[ShareRow]
    uncertain_share: float | None
    speakers: list[str]
    limits: list[str]
    notes: list[str]
    corrected: bool
    duration: float
    model_tier: list[tuple[float, float, str, bool]]
    clinician_tier: list[tuple[float, float, str]]


def clock(seconds: float) -> str:
    """``m:ss.s`` under an hour, ``h:mm:ss`` from an hour on (as the window writes times)."""
    if not math.isfinite(seconds):
        return "–"
    tenths = int(round(max(seconds, 0.0) * 10))
    if tenths >= 36000:
        h, rest = divmod(tenths // 10, 3600)
        return f"{h}:{rest // 60:02d}:{rest % 60:02d}"
    m, t = divmod(tenths, 600)
    return f"{m}:{t // 10:02d}.{t % 10}"


def _pct(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def card_limits(card: str) -> list[str]:
    """The bullet lines under a model card's ``## Limits`` heading, without the bullets."""
    out: list[str] = []
    inside = False
    for line in card.splitlines():
        if line.startswith("## "):
            inside = line.strip().lower() == "## limits"
            continue
        if inside and line.strip().startswith(("-", "*")):
            out.append(line.strip()[1:].strip())
        elif inside and line.strip() and out:
            out[-1] += " " + line.strip()  # a bullet continued on the next line
    return out


def clinician_notes(review: Any) -> list[str]:
    """The clinician's notes in a review, as lines of text: the recording's note first
    (:attr:`~ser_engine.review.Review.note`), then the notes on stretches in time order
    (:attr:`~ser_engine.review.Review.segment_notes`, :class:`~ser_engine.review.Note` objects:
    ``start``, ``end``, ``text``), each as "0:06.0–0:12.0: text".

    It never fails on a review of another shape (a hand-edited or future one): text in
    ``note``/``notes``/``recording_note``, and lists or dicts of objects or dicts with
    ``text``/``note`` and ``start``/``end`` in ``notes``/``segment_notes``.
    """
    if review is None:
        return []
    out: list[str] = []
    for attr in ("note", "notes", "recording_note", "segment_notes"):
        value = getattr(review, attr, None)
        if isinstance(value, str):
            if value.strip():
                out.append(" ".join(value.split()))
        elif isinstance(value, dict):
            for key, item in value.items():
                out += _note_lines(item, key)
        elif isinstance(value, Iterable):
            for item in value:
                out += _note_lines(item, None)
    return list(dict.fromkeys(out))  # the same note under two names is said once


def _note_lines(item: Any, key: Any) -> list[str]:
    if isinstance(item, str):
        text, start, end = item, None, None
    elif isinstance(item, dict):
        text = item.get("text") or item.get("note") or ""
        start, end = item.get("start"), item.get("end")
    else:
        text = getattr(item, "text", None) or getattr(item, "note", None) or ""
        start, end = getattr(item, "start", None), getattr(item, "end", None)
    if (start is None or end is None) and isinstance(key, (tuple, list)) and len(key) == 2:
        start, end = key
    text = " ".join(str(text).split())
    if not text:
        return []
    try:
        return [f"{clock(float(start))}–{clock(float(end))}: {text}"]  # type: ignore[arg-type]
    except (TypeError, ValueError):  # no times, or not numbers: the note alone
        return [text]


def report_content(timeline: Any, review: Any = None, bundle: Any = None, *,
                   analysed: datetime.datetime | None = None) -> ReportContent:
    """What the report of ``timeline`` says (see the module docstring); nothing is drawn.

    Parameters
    ----------
    timeline : ser_engine.results.Timeline
    review : ser_engine.review.Review or None
        The saved clinician review of the recording (None or empty: no corrections).
    bundle : ser_engine.bundle.ModelBundle or None
        The model that analysed it, for its card's limits (a bundle of another model than the
        timeline's is not used: its limits are not this model's).
    analysed : datetime or None
        When it was analysed (default: now).
    """
    analysed = analysed or datetime.datetime.now().astimezone()
    name = Path(timeline.path).name
    speech = sum(s.duration for s in timeline.segments if s.is_speech)
    uncertain = sum(s.duration for s in timeline.segments if s.is_speech and s.uncertain)
    intervals = list(getattr(review, "intervals", None) or [])
    model_summary = timeline.summary()
    clin_summary = (review.summary(timeline.segments, timeline.labels, duration=timeline.duration)
                    if review is not None else model_summary)
    shares = []
    extra = [k for k in clin_summary.seconds if k not in timeline.labels]
    for label in [*timeline.labels, *extra]:
        shares.append(ShareRow(label, model_summary.seconds.get(label, 0.0), model_summary.shares.get(label, 0.0),
                               clin_summary.seconds.get(label, 0.0), clin_summary.shares.get(label, 0.0)))
    dur = timeline.duration
    shares.append(ShareRow(NO_SPEECH, model_summary.no_speech_seconds,
                           model_summary.no_speech_seconds / dur if dur > 0 else 0.0,
                           clin_summary.no_speech_seconds, clin_summary.no_speech_seconds / dur if dur > 0 else 0.0))
    if timeline.label in (None, NO_SPEECH) or timeline.confidence is None:
        answer = "no speech found"
    else:
        answer = f"{timeline.label}, {timeline.confidence:.0%} of the speech time"
        answer += " (uncertain)" if timeline.uncertain else ""
    below = _uncertain_below(timeline, bundle)
    patient = _patient(timeline, review)
    if patient is None:
        answers = [("Model's answer", answer)]
    else:  # the patient's answer first, as the queue and the panel give it once the patient is chosen
        answers = [("Model's answer", _patient_answer(timeline, review, patient, below)),
                   ("Whole recording", f"{answer} (all speakers)")]
    from .channel import narrow_band_reason, quiet_speech_reason
    from .vad import SNR_UNCERTAIN_DB

    if timeline.snr_db is None:
        snr = "not measured (too little speech or pause to compare)"
    else:
        snr = f"{timeline.snr_db:.1f} dB"
        snr += (f" (below {SNR_UNCERTAIN_DB:.0f} dB: labels marked uncertain)" if timeline.snr_db < SNR_UNCERTAIN_DB
                else "")
        quiet = quiet_speech_reason(timeline)
        snr += f"; {quiet}" if quiet else ""
    narrow = narrow_band_reason(timeline)
    mix = describe_mix(getattr(timeline, "emotion_mix", None))
    facts = [("Recording", name),
             ("Duration", f"{clock(dur)} ({clock(speech)} of speech)"),
             ("Analysed", analysed.strftime("%Y-%m-%d %H:%M %Z").strip()),
             ("Model", f"{timeline.model_id}, version {timeline.model_version} (SER Studio {__version__})"),
             *answers,
             ("Uncertain", "no speech" if speech <= 0
              else f"{uncertain / speech:.0%} of the speech time is in segments marked uncertain"),
             ("Normalisation", timeline.normalisation.describe()),
             *([("Emotion mix", mix.capitalize())] if mix else []),
             ("Signal-to-noise ratio", snr),
             *([("Speech band", narrow)] if narrow else []),
             ("Clinician's review", _review_line(review, intervals)),
             ("Audio SHA-256", timeline.sha256 or "not computed")]
    limits: list[str]
    if bundle is None:
        limits = ["The model's card was not available to this report; see the model's card in SER Studio."]
    elif getattr(bundle, "model_id", None) != timeline.model_id:
        limits = [f"The model's card at hand is of {bundle.model_id}, not of {timeline.model_id}; see that model's "
                  "card in SER Studio."]
    else:
        limits = card_limits(getattr(bundle, "card", "") or "") or ["The model's card states no limits."]
    return ReportContent(
        title=f"Session report: {name}", facts=facts, shares=shares,
        uncertain_share=None if speech <= 0 else uncertain / speech,
        speakers=_speaker_lines(timeline, review, below), limits=limits, notes=clinician_notes(review),
        corrected=bool(intervals), duration=dur,
        model_tier=[(s.start, s.end, s.label, bool(s.uncertain and s.is_speech)) for s in timeline.segments
                    if s.end > s.start],
        clinician_tier=[(iv.start, iv.end, iv.label) for iv in intervals if iv.end > iv.start])


def _uncertain_below(timeline: Any, bundle: Any) -> float:
    """The "uncertain" threshold of the model that analysed ``timeline`` (its default when the
    model at hand is another)."""
    if bundle is not None and getattr(bundle, "model_id", None) == timeline.model_id:
        return float(getattr(bundle, "uncertain_below", UNCERTAIN_BELOW))
    return UNCERTAIN_BELOW


def _patient(timeline: Any, review: Any) -> int | None:
    """The speaker the clinician chose as the patient, when they are among the recording's
    speakers after the clinician's corrections; else None."""
    patient = getattr(review, "patient", None)
    if patient is None or not getattr(timeline, "speakers", None):
        return None
    return patient if patient in review.speakers_in(timeline.segments) else None


def _speaker_of(review: Any) -> Any:
    """A segment's speaker after the clinician's corrections (the analysis's without a review)."""
    if review is not None:
        return review.speaker_of
    return lambda seg: getattr(seg, "speaker", None)


def _speaker_summary(timeline: Any, review: Any, speaker: int) -> Any:
    """One speaker's :class:`~ser_engine.summary.Summary` after the clinician's speaker
    corrections, as the window's speaker summaries compute it."""
    from .summary import summarise

    speaker_of = _speaker_of(review)
    return summarise([s for s in timeline.segments if speaker_of(s) == speaker], timeline.labels)


def _patient_answer(timeline: Any, review: Any, patient: int, below: float) -> str:
    """The patient's answer in the queue's words: the emotion with the largest share of their
    own speech time (:meth:`~ser_engine.summary.Summary.top`)."""
    from .channel import poor_channel, speaker_normalisation

    summary = _speaker_summary(timeline, review, patient)
    label, share = summary.top()
    name = speaker_title(review.speaker_label(patient), patient)
    if share is None:
        return f"no speech found for the patient ({name})"
    noisy = poor_channel(timeline, speaker_normalisation(timeline, patient))
    uncertain = summary.answer_uncertain(uncertain_below=below, noisy=noisy)
    return f"{label}, {share:.0%} of the patient's speech time{' (uncertain)' if uncertain else ''} ({name})"


def _review_line(review: Any, intervals: Sequence[Any]) -> str:
    if review is None:
        return "none"
    if not intervals:
        return "no labels corrected"
    when = getattr(review, "updated", None) or getattr(review, "created", None)
    text = f"{len(intervals)} stretch{'es' if len(intervals) != 1 else ''} labelled"
    try:
        when = datetime.datetime.fromisoformat(str(when)).astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
    except ValueError:  # not a time (None, or written by hand): as it is
        pass
    return text + (f", last saved {when}" if when and when != "None" else "")


def _speaker_lines(timeline: Any, review: Any, below: float) -> list[str]:
    """A line per speaker found, the patient first. A speaker's answer, speaking time and turns
    are over their speech after the clinician's speaker corrections (moves, merges), as the
    window's speaker summaries give them; a speaker merged into another says where they went."""
    from .channel import poor_channel
    from .summary import speaker_turns

    out = []
    patient = getattr(review, "patient", None)
    turns = speaker_turns(timeline.segments, _speaker_of(review))
    label_of = getattr(review, "speaker_label", None)
    label_of = label_of if callable(label_of) else None  # the user's names, when there is a review
    resolve = getattr(review, "resolve", None)
    resolve = resolve if callable(resolve) else None  # the clinician's merges
    # the patient first, as the window lists them; then in order of first appearance
    for sp in sorted(getattr(timeline, "speakers", None) or [], key=lambda sp: sp.index != patient):
        name = speaker_title(label_of(sp.index), sp.index) if label_of else sp.name
        if patient is not None and patient == sp.index:
            name += " (patient)"
        into = resolve(sp.index) if resolve else sp.index
        if label_of and into != sp.index:
            out.append(f"{name}: merged by the clinician into {speaker_title(label_of(into), into)}")
            continue
        summary = _speaker_summary(timeline, review, sp.index)
        label, share = summary.top()
        n = turns.get(sp.index, 0)
        answer = "no speech found" if share is None else f"{label} {share:.0%} of their speech"
        uncertain = summary.answer_uncertain(uncertain_below=below, noisy=poor_channel(timeline, sp.normalisation))
        out.append(f"{name}: {clock(summary.speech_seconds)} of speech in {n} turn{'s' if n != 1 else ''}; "
                   f"{answer}{' (uncertain)' if uncertain else ''}; "
                   f"{sp.normalisation.describe(label_of)}")
    return out


# -- drawing -----------------------------------------------------------------------------------


class _Pages:
    """Figures of A4 pages filled top to bottom; a block that does not fit starts a page."""

    def __init__(self, footer: str):
        self.figures: list[Any] = []
        self.footer = footer
        self.y = 0.0
        self.new_page()

    @property
    def page_count(self) -> int:
        return len(self.figures)

    def new_page(self) -> None:
        from matplotlib.figure import Figure

        self.figures.append(Figure(figsize=PAGE))
        self.y = PAGE[1] - _TOP

    @property
    def fig(self) -> Any:
        return self.figures[-1]

    def fits(self, height: float) -> bool:
        return self.y - height >= _BOTTOM

    def room(self, height: float) -> bool:
        """Make room for ``height`` inches (a new page if needed); False when that page would
        be past :data:`MAX_PAGES`."""
        if self.fits(height):
            return True
        if self.page_count >= MAX_PAGES:
            return False
        self.new_page()
        return True

    def text(self, text: str, *, size: float = _BODY_PT, weight: str = "normal", indent: float = 0.0,
             colour: str = "#000000", wrap: int = _WRAP, gap: float = 0.0) -> bool:
        width = int(wrap * _BODY_PT / size) - int(indent * 14)
        lines = textwrap.wrap(text, width=width, break_on_hyphens=False) or [""]
        height = len(lines) * size * _LINE / 72 + gap
        if not self.room(height):
            return False
        for line in lines:
            self.y -= size * _LINE / 72
            self.fig.text(_fx(_MARGIN_X + indent), _fy(self.y), line, fontsize=size, fontweight=weight, color=colour,
                          va="baseline")
        self.y -= gap
        return True

    def axes(self, height: float) -> Any:
        self.y -= height
        return self.fig.add_axes((_fx(_MARGIN_X), _fy(self.y), _fx(PAGE[0] - 2 * _MARGIN_X), height / PAGE[1]))

    def finish(self) -> None:
        n = self.page_count
        for i, fig in enumerate(self.figures, 1):
            fig.text(_fx(_MARGIN_X), _fy(_BOTTOM - 0.35), self.footer, fontsize=_SMALL_PT, color="#444444")
            fig.text(_fx(PAGE[0] - _MARGIN_X), _fy(_BOTTOM - 0.35), f"page {i} of {n}", fontsize=_SMALL_PT,
                     color="#444444", ha="right")


def _fx(inches: float) -> float:
    return inches / PAGE[0]


def _fy(inches: float) -> float:
    return inches / PAGE[1]


def _row_length(duration: float) -> float:
    """Seconds of recording per line of the timeline picture: the whole file up to two minutes,
    else a round length that needs at most :data:`MAX_TIMELINE_ROWS` lines."""
    if duration <= 120:
        return max(duration, 1e-3)
    for minutes in (1, 2, 5, 10, 15, 20, 30, 60, 120, 240):
        if duration / (minutes * 60) <= MAX_TIMELINE_ROWS:
            return minutes * 60.0
    return duration / MAX_TIMELINE_ROWS


def _block(ax: Any, start: float, end: float, y: float, height: float, label: str, *, width_in: float,
           span: float, name: bool = True) -> None:
    from matplotlib.patches import Rectangle

    fill = colour_for(label)
    ink = text_colour(fill)
    ax.add_patch(Rectangle((start, y), end - start, height, facecolor=fill, edgecolor="#ffffff", linewidth=0.4,
                           hatch=hatch_for(label) or None, hatchcolor=ink + "66"))
    wide = (end - start) / span * width_in
    if name and wide > 0.09 * len(label) * 0.55 + 0.06:
        ax.text((start + end) / 2, y + height / 2, label, ha="center", va="center", fontsize=6, color=ink,
                bbox={"boxstyle": "square,pad=0.1", "facecolor": fill, "edgecolor": "none"}, clip_on=True)


def _draw_timeline(pages: _Pages, content: ReportContent) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    row = _row_length(content.duration)
    rows = max(1, math.ceil(content.duration / row - 1e-9))
    width_in = PAGE[0] - 2 * _MARGIN_X
    height = 0.78
    for r in range(rows):
        t0, t1 = r * row, min((r + 1) * row, content.duration)
        if not pages.room(height + 0.3):
            return
        ax = pages.axes(height)
        pages.y -= 0.3  # room for the time axis's labels
        ax.set_xlim(t0, t0 + row)
        ax.set_ylim(0, 3.3)
        ax.set_yticks([2.6, 1.55, 0.55], ["Model", "uncertain", "Clinician"], fontsize=7)
        ax.tick_params(axis="y", length=0)
        ax.tick_params(axis="x", labelsize=6.5, length=2)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=10, steps=[1, 2, 2.5, 3, 5, 6, 10]))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: clock(x).removesuffix(".0")))
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.axvspan(t1, t0 + row, color="#ffffff", zorder=0)  # past the end of the recording
        ax.add_patch(_background(t0, t1, 0.1, 0.9))
        for start, end, label, unsure in content.model_tier:
            if end <= t0 or start >= t1:
                continue
            a, b = max(start, t0), min(end, t1)
            _block(ax, a, b, 2.2, 0.8, label, width_in=width_in, span=row)
            if unsure:
                ax.add_patch(_uncertain_bar(a, b))
        for start, end, label in content.clinician_tier:
            if end <= t0 or start >= t1:
                continue
            _block(ax, max(start, t0), min(end, t1), 0.1, 0.9, label, width_in=width_in, span=row)


def _background(t0: float, t1: float, y: float, h: float) -> Any:
    from matplotlib.patches import Rectangle

    # where the clinician labelled nothing: faint, so a gap reads as "not reviewed", not an emotion
    return Rectangle((t0, y), t1 - t0, h, facecolor="#ffffff", edgecolor="#9a9a9a", linewidth=0.5, linestyle=":")


def _uncertain_bar(a: float, b: float) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((a, 1.45), b - a, 0.22, facecolor="#222222", edgecolor="none")


def _draw_legend(pages: _Pages, labels: Sequence[str]) -> None:
    from matplotlib.patches import Rectangle

    entries = [*labels, NO_SPEECH]
    per_row = 5
    rows = math.ceil(len(entries) / per_row)
    height = (rows + 2) * 0.2 + 0.05
    if not pages.room(height):
        return
    ax = pages.axes(height)
    ax.set_axis_off()
    ax.set_xlim(0, per_row)
    ax.set_ylim(-1.6, rows + 0.5)
    for i, label in enumerate(entries):
        x, y = i % per_row, rows - i // per_row
        fill = colour_for(label)
        ax.add_patch(Rectangle((x, y - 0.35), 0.28, 0.7, facecolor=fill, edgecolor="#666666", linewidth=0.4,
                               hatch=hatch_for(label) or None, hatchcolor=text_colour(fill) + "66"))
        ax.text(x + 0.34, y, label, fontsize=7, va="center")
    ax.add_patch(Rectangle((0, -0.1), 0.28, 0.35, facecolor="#222222", edgecolor="none"))
    ax.text(0.34, 0.08, "uncertain: the model's label there is more often wrong than right, or the speech is "
                        "close to the noise", fontsize=7, va="center")
    ax.add_patch(_background(0, 0.28, -1.15, 0.6))
    ax.text(0.34, -0.85, "a blank in the clinician's row: not labelled by the clinician (the model's label stands)",
            fontsize=7, va="center")


def _shares_height(content: ReportContent) -> float:
    return (len(content.shares) + 1.4) * 0.19


def _draw_shares(pages: _Pages, content: ReportContent) -> None:
    from matplotlib.patches import Rectangle

    rows = content.shares
    height = _shares_height(content)
    if not pages.room(height):
        return
    ax = pages.axes(height)
    ax.set_axis_off()
    width = PAGE[0] - 2 * _MARGIN_X
    ax.set_xlim(0, width)
    ax.set_ylim(0, len(rows) + 1.4)
    head_y = len(rows) + 0.7
    clin_title = "Clinician-corrected" if content.corrected else "Clinician-corrected (no corrections)"
    columns = (("Model (the recording's answer)", 1.6), (clin_title, 4.2))
    for title, x in columns:
        ax.text(x, head_y, title, fontsize=8, fontweight="bold", va="center")
    bar_w = 1.3
    for i, r in enumerate(rows):
        y = len(rows) - i - 0.3
        fill = colour_for(r.label)
        ax.add_patch(Rectangle((0, y - 0.32), 0.22, 0.64, facecolor=fill, edgecolor="#666666", linewidth=0.4,
                               hatch=hatch_for(r.label) or None, hatchcolor=text_colour(fill) + "66"))
        ax.text(0.3, y, r.label, fontsize=7.5, va="center")
        for (_, x), secs, share in zip(columns, (r.model_seconds, r.clinician_seconds),
                                       (r.model_share, r.clinician_share), strict=True):
            ax.add_patch(Rectangle((x, y - 0.28), bar_w, 0.56, facecolor="#f1f1f1", edgecolor="none"))
            ax.add_patch(Rectangle((x, y - 0.28), bar_w * min(max(share, 0.0), 1.0), 0.56, facecolor=fill,
                                   edgecolor="#666666", linewidth=0.3, hatch=hatch_for(r.label) or None,
                                   hatchcolor=text_colour(fill) + "66"))
            ax.text(x + bar_w + 0.08, y, f"{share:.0%}  ({clock(secs)})", fontsize=7.5, va="center")


def render_report(content: ReportContent, *, labels: Sequence[str]) -> bytes:
    """The PDF bytes of ``content`` (1 to :data:`MAX_PAGES` pages)."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    with matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans", "hatch.linewidth": 0.6,
                                "axes.linewidth": 0.6}):
        pages = _Pages(f"SER Studio {__version__} · {content.title} · screening estimates, not a diagnosis")
        pages.text(content.title, size=15, weight="bold", gap=0.04)
        pages.text(SCREENING, size=9.5, weight="bold", colour="#7a1f00", gap=0.12)
        for key, value in content.facts:
            pages.text(f"{key}: {value}", size=8.5)
        pages.y -= 0.12
        pages.room(0.35 + 1.1)  # the heading stays with the first line of the timeline
        pages.text("Timeline: the model's segments, where it is uncertain, and the clinician's labels", size=10,
                   weight="bold", gap=0.05)
        _draw_timeline(pages, content)
        _draw_legend(pages, labels)
        pages.y -= 0.1
        pages.room(0.75 + _shares_height(content))  # the heading and its explanation stay with the table
        pages.text("Share of the speech time per emotion", size=10, weight="bold", gap=0.02)
        pages.text("The model's column is the recording's one answer (each emotion's estimated share of the speech "
                   "time); the clinician's column counts the clinician's labels whole and keeps the model's estimate "
                   "where nothing was corrected. The no-speech row is a share of the whole recording.", size=7.5,
                   colour="#333333", gap=0.04)
        _draw_shares(pages, content)
        if content.speakers:
            pages.y -= 0.08
            pages.text("Speakers", size=10, weight="bold", gap=0.02)
            for line in content.speakers:
                pages.text(line, size=8.5, indent=0.1)
        pages.y -= 0.08
        pages.text("What the model cannot do (its card's stated limits)", size=10, weight="bold", gap=0.02)
        for line in content.limits:
            pages.text("• " + line, size=8, indent=0.1)
        if content.notes:
            pages.y -= 0.08
            pages.text("Clinician's notes", size=10, weight="bold", gap=0.02)
            for i, note in enumerate(content.notes):
                if not pages.text("• " + note, size=8.5, indent=0.1):
                    # a report stays within MAX_PAGES: say what was left out rather than drop it silently
                    _last_word(pages, f"… {len(content.notes) - i} more note(s) in the review, not shown here.")
                    break
        pages.finish()
        buf = io.BytesIO()
        meta = {"Title": content.title, "Creator": f"SER Studio {__version__}",
                "Subject": "Speech emotion screening estimates, not a diagnosis"}
        with PdfPages(buf, metadata=meta) as pdf:
            for fig in pages.figures:
                pdf.savefig(fig)
    return buf.getvalue()


def _last_word(pages: _Pages, text: str) -> None:
    pages.fig.text(_fx(_MARGIN_X + 0.1), _fy(max(pages.y - 0.15, _BOTTOM - 0.15)), text, fontsize=8,
                   style="italic")


def check_destination(dest: str | Path) -> None:
    """Refuse, before any work, a report destination that cannot be written.

    Raises
    ------
    ExportError
        ``dest`` is a folder, lies under a file, or its folder is not writable (one line).
    """
    dest = Path(dest)
    if dest.is_dir():
        raise ExportError(f"{dest}: is a folder; give the report's file name (e.g. {dest / 'report.pdf'})")
    parent = dest.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent  # the atomic write creates the missing folders
    if not parent.is_dir():
        raise ExportError(f"{dest}: could not be written ({parent} is a file, not a folder)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(f"{dest}: could not be written (no permission to write in {parent})")


def write_report(timeline: Any, review: Any, bundle: Any, dest: str | Path, *,
                 analysed: datetime.datetime | None = None) -> Path:
    """Write the session report of ``timeline`` to ``dest`` (a PDF, atomically).

    Parameters
    ----------
    timeline : ser_engine.results.Timeline
        The analysed recording.
    review : ser_engine.review.Review or None
        Its saved clinician review.
    bundle : ser_engine.bundle.ModelBundle or None
        The model that analysed it (its card's limits are quoted).
    dest : str or Path
    analysed : datetime or None
        When the recording was analysed (default: now).

    Returns
    -------
    Path

    Raises
    ------
    ExportError
        ``dest`` could not be written (one line: the file and why); nothing is left there.
    """
    dest = Path(dest)
    check_destination(dest)
    content = report_content(timeline, review, bundle, analysed=analysed)
    data = render_report(content, labels=timeline.labels)
    try:
        atomic_write_bytes(dest, data, mode=SHARED)
    except OSError as exc:
        raise ExportError(f"{dest}: could not be written ({exc.strerror or exc})") from None
    return dest


__all__ = ["MAX_PAGES", "SCREENING", "ReportContent", "ShareRow", "card_limits", "check_destination",
           "clinician_notes", "clock",
           "render_report", "report_content", "write_report"]
