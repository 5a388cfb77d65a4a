"""What the right-hand panel says about the selection, read from the session in one place each:
the headline (:func:`headline_view`), the probability bars (:func:`bars_view`) and the summary
chart (:func:`summary_view`).

Qt-free: the panel (:class:`~desktop.probability_panel.ProbabilityPanel`) only draws what these
return. To change what the panel answers (one consistent answer for a recording, say), change
these functions; the wiring stays as it is.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ser_engine.results import NO_SPEECH

from .headline import is_long, summary_of
from .session import ANALYSING, CANCELLED, ERROR, QUEUED, Session
from .timefmt import clock, span

#: What the panel says of a recording that has no result yet.
PENDING_TEXT = {QUEUED: "Waiting in the queue…", ANALYSING: "Analysing…", CANCELLED: "Cancelled: not analysed"}


@dataclasses.dataclass(frozen=True)
class HeadlineView:
    """The big label and the lines around it.

    ``label`` is an emotion or "no speech"; ``value`` the number beside it ("confidence 83%",
    "dominant: 40% of speech time"); ``scope`` what it is about ("Whole recording, 0:03.7",
    "Segment 0:01.2–0:03.4"); ``uncertain`` whether to warn.
    """

    label: str
    value: str
    scope: str
    uncertain: bool
    segment: bool


@dataclasses.dataclass(frozen=True)
class StateView:
    """The selection when it has no result to show: its name and why (pending, an error)."""

    title: str
    message: str
    error: bool = False


def state_view(session: Session) -> StateView | None:
    """None when the selection has a result to show (or a segment of a partial timeline)."""
    e = session.selected_entry()
    if e is None:
        return StateView("No recording selected", "")
    name = Path(e.path).name
    if e.status == ERROR:
        return StateView(name, f"Could not be analysed: {e.error}", error=True)
    if e.final:
        return None
    if e.status == ANALYSING and e.progress is not None:
        return StateView(name, f"Analysing… {e.progress:.0%} (the timeline fills as blocks finish)")
    return StateView(name, PENDING_TEXT.get(e.status, e.status))


def headline_view(session: Session) -> HeadlineView | None:
    """The headline of the selected recording, or of its selected segment."""
    result = session.selected_result()
    if result is None:
        return None
    seg = session.selected_segment()
    if seg is not None:
        uncertain_below = session.model.uncertain_below if session.model is not None else 0.4
        conf = seg.confidence
        return HeadlineView(seg.label, f"confidence {conf:.0%}" if conf is not None else "silence or non-speech",
                            f"Segment {span(seg.start, seg.end)}", conf is not None and conf < uncertain_below, True)
    h = session.selected_entry().headline  # type: ignore[union-attr]  # a final entry has one
    if h is None:
        return None
    if h.kind == "share":
        value = f"dominant: {h.value_text()} time" if h.value is not None else ""
        scope = f"Whole recording, {clock(result.duration)}; probabilities pooled over all its speech"
    else:
        value = f"confidence {h.value:.0%}" if h.value is not None else ""
        scope = f"Whole recording, {clock(result.duration)}"
    return HeadlineView(h.label, value, scope, bool(h.uncertain), False)


def bars_view(session: Session) -> list[tuple[str, float]]:
    """``[(label, probability), ...]`` largest first: the selected segment's, or the recording's.
    Empty when there is nothing to show (no bars are drawn then)."""
    result = session.selected_result()
    if result is None:
        return []
    seg = session.selected_segment()
    probs = (seg.probabilities or {}) if seg is not None else result.probabilities
    return [(k, float(v)) for k, v in sorted(probs.items(), key=lambda kv: -kv[1])]


def summary_view(session: Session) -> tuple[Any, Any] | None:
    """``(model summary, corrected summary or None)`` for the chart, or None when no chart is
    shown: a clip without corrections has nothing more to say than its headline."""
    result = session.selected_result()
    if result is None:
        return None
    labels = session.labels()
    corrected = session.reviews.corrected_summary(result, labels)
    if not is_long(result) and corrected is None:
        return None
    return summary_of(result, labels), corrected


def normalisation_text(session: Session) -> str:
    """How the selected recording was normalised, in words."""
    result = session.selected_result()
    if result is None:
        return ""
    norm = result.normalisation
    describe = getattr(norm, "describe", None)
    if describe is not None:  # the engine says what the statistics came from
        return "Normalisation: " + describe()
    own = "this recording's own speech" if is_long(result) else "this folder"
    return "Normalisation: " + (f"speaker baseline ({own})" if norm == "speaker" else "global")


def clinician_view(session: Session) -> tuple[str, str] | None:
    """The clinician line for the selected segment: ``(kind, text)`` with kind "label" (text:
    the label), "none" or "unavailable" (text: why); None without a selected segment."""
    result = session.selected_result()
    seg = session.selected_segment()
    if result is None or seg is None:
        return None
    problem = session.reviews.problem(result.path)
    if problem:
        return "unavailable", problem
    label = session.reviews.label_for(result, seg)
    return ("label", label) if label else ("none", "")


def segment_rows(session: Session) -> list[tuple[str, str]]:
    """``[(text, label), ...]`` of the segment list of the selected recording."""
    rows = []
    for seg in session.segments_of(session.selected):
        conf = "" if seg.confidence is None else f"  {seg.confidence:.0%}"
        label = seg.label if seg.label else NO_SPEECH
        rows.append((f"{clock(seg.start):>9}–{clock(seg.end):>9}   {label}{conf}", label))
    return rows
