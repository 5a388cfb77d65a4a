"""What the right-hand panel says about the selection, read from the session in one place each:
the headline (:func:`headline_view`), the probability bars (:func:`bars_view`), the summary
chart (:func:`summary_view`, one per speaker: :func:`speaker_views`), why a label is
uncertain (:func:`uncertain_reasons`), the noise (:func:`noise_text`), the normalisation
(:func:`normalisation_view`) and who speaks (:func:`speakers_line`, :func:`speaker_line`).

Qt-free: the panel (:class:`~desktop.probability_panel.ProbabilityPanel`) only draws what these
return.

**One answer.** A recording's answer is the engine's (:mod:`ser_engine.labelling`): each
emotion's estimated share of its speech time. The headline is its largest share, and its
number is that share: the bar of the headline's label, and the same share in the summary chart
(:meth:`ser_engine.results.Timeline.summary`). For a clip of one utterance the share is the
probability of the emotion ("confidence 83%"); for a session the headline says what the
number is ("40% of speech"). A selected segment's headline is its label and confidence, its
bars its probabilities. With speakers, the headline and bars answer for one speaker (the
patient first) or for everyone (:attr:`~desktop.session.Session.scope`): a speaker's shares
are their segments' probabilities weighed by time — the engine's answer for that speaker, with
the clinician's speaker corrections (segments moved, speakers merged) applied.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ser_engine.channel import narrow_band_reason, poor_channel, quiet_speech_reason, speaker_normalisation
from ser_engine.results import MIX_RECORDING, NO_SPEECH, describe_mix, speaker_title

from .headline import is_long, share_headline, summary_of, too_noisy
from .session import ANALYSING, CANCELLED, ERROR, ESTIMATE, ESTIMATE_RIGHT, QUEUED, Session
from .timefmt import clock, span

#: What the panel says of a recording that has no result yet.
PENDING_TEXT = {QUEUED: "Waiting in the queue…", ANALYSING: "Analysing…", CANCELLED: "Cancelled: not analysed"}
#: What the headline's number means, under it.
SHARE_DEFINITION = "the estimated share of the speech time; the bars are every emotion's share"
CONFIDENCE_DEFINITION = "the probability of the emotion; the bars are every emotion's"


@dataclasses.dataclass(frozen=True)
class HeadlineView:
    """The big label and the lines around it.

    ``label`` is an emotion or "no speech"; ``value`` the number beside it ("confidence 83%",
    "40% of speech"); ``definition`` what that number is; ``scope`` what it is about ("Whole
    recording, 0:03.7", "Segment 0:01.2–0:03.4", "Patient (S2): 3:12 of speech in 14 turns");
    ``uncertain`` whether to warn (:func:`uncertain_reasons` says why).
    """

    label: str
    value: str
    scope: str
    uncertain: bool
    segment: bool
    definition: str = ""


@dataclasses.dataclass(frozen=True)
class StateView:
    """The selection when it has no result to show: its name and why (pending, an error)."""

    title: str
    message: str
    error: bool = False


@dataclasses.dataclass(frozen=True)
class SpeakerView:
    """One speaker of a recording, as the panel shows them: ``name`` ("Patient (S2)"), their
    answer (``label``, ``share``), speaking time and turns, and their summaries (the model's;
    with the clinician's corrected labels, or None)."""

    index: int
    name: str
    patient: bool
    label: str
    share: float | None
    seconds: float
    turns: int
    summary: Any
    corrected: Any
    uncertain: bool

    def title(self) -> str:
        answer = f"{self.label} {self.share:.0%}" if self.share is not None else NO_SPEECH
        answer += " (uncertain)" if self.uncertain and self.share is not None else ""
        turns = f", {self.turns} turn{'s' * (self.turns != 1)}" if self.turns else ""
        return f"{self.choice()}: {answer} · {clock(self.seconds)} speaking{turns}"

    def choice(self) -> str:
        """``"Mr A (S2) · patient"``; a speaker named "Patient" needs no more."""
        named_so = self.name.lower().startswith("patient")
        return self.name + (" · patient" if self.patient and not named_so else "")


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


def display_name(session: Session, index: int) -> str:
    """``"Patient (S2)"`` for a named speaker, ``"S2"`` otherwise."""
    return speaker_title(session.speaker_label(index), index)


def headline_view(session: Session) -> HeadlineView | None:
    """The headline of the selected segment, the speaker in scope, or the whole recording."""
    result = session.selected_result()
    if result is None:
        return None
    seg = session.selected_segment()
    if seg is not None:
        conf = seg.confidence
        scope = f"Segment {span(seg.start, seg.end)}"
        who = session.reviews.speaker_of(result, seg) if result.speakers else None
        if who is not None:
            scope += f" · {display_name(session, who)}"
        return HeadlineView(seg.label, f"confidence {conf:.0%}" if conf is not None else "silence or non-speech",
                            scope, bool(seg.is_speech and seg.uncertain), True,
                            CONFIDENCE_DEFINITION if conf is not None else "")
    speaker = _speaker_in_scope(session)
    if speaker is not None:
        if speaker.share is None:
            return HeadlineView(NO_SPEECH, "", f"{speaker.name}: no speech left", False, False)
        turns = f" in {speaker.turns} turn{'s' * (speaker.turns != 1)}" if speaker.turns else ""
        return HeadlineView(speaker.label, f"{speaker.share:.0%} of their speech",
                            f"{speaker.name}: {clock(speaker.seconds)} of speech{turns}", speaker.uncertain, False,
                            SHARE_DEFINITION)
    h = session.selected_entry().headline  # type: ignore[union-attr]  # a final entry has one
    if h is None:
        return None
    everyone = " · all speakers" if len(result.speakers) > 1 else ""
    scope = f"Whole recording, {clock(result.duration)}{everyone}"
    if h.value is None:
        return HeadlineView(h.label, "", scope, bool(h.uncertain), False)
    if h.kind == "share":
        return HeadlineView(h.label, f"{h.value:.0%} of speech", scope, bool(h.uncertain), False, SHARE_DEFINITION)
    return HeadlineView(h.label, f"confidence {h.value:.0%}", scope, bool(h.uncertain), False,
                        CONFIDENCE_DEFINITION)


def bars_view(session: Session) -> list[tuple[str, float]]:
    """``[(label, probability), ...]`` largest first: the selected segment's, the speaker's in
    scope, or the recording's. Empty when there is nothing to show (no bars are drawn then)."""
    result = session.selected_result()
    if result is None:
        return []
    seg = session.selected_segment()
    if seg is not None:
        probs = seg.probabilities or {}
    else:
        speaker = _speaker_in_scope(session)
        probs = result.probabilities if speaker is None else (speaker.summary.shares if speaker.share is not None
                                                              else {})
    return [(k, float(v)) for k, v in sorted(probs.items(), key=lambda kv: -kv[1])]


def summary_view(session: Session) -> tuple[Any, Any] | None:
    """``(model summary, corrected summary or None)`` of the whole recording for the chart, or
    None when no chart is shown: a clip without corrections has nothing more to say than its
    headline, and a recording with speakers shows one chart per speaker instead
    (:func:`speaker_views`)."""
    result = session.selected_result()
    if result is None or len(result.speakers) > 1:
        return None
    labels = session.labels()
    corrected = session.reviews.corrected_summary(result, labels)
    if not is_long(result) and corrected is None:
        return None
    return summary_of(result, labels), corrected


def speaker_views(session: Session) -> list[SpeakerView]:
    """Each speaker of the selected recording after the clinician's corrections, the patient
    first, then in order of first appearance (empty for a recording of one speaker)."""
    result = session.selected_result()
    if result is None or len(result.speakers) < 2:
        return []
    key = ("speaker_views", session.labels(), session.uncertain_below)
    return session.reviews.memo(result, key, lambda: _speaker_views(session, result))


def _speaker_views(session: Session, result: Any) -> list[SpeakerView]:
    from ser_engine.summary import summarise

    review = session.reviews.speaker_review(result)
    labels = session.labels()
    patient = session.reviews.patient(result)
    below = session.uncertain_below
    turns = _turns(session, result)
    out = []
    for k in session.speakers_of():
        segs = session.speaker_segments(k)
        summ = summarise(segs, labels)
        corrected = None
        if review is not None and any(iv.end > s.start and iv.start < s.end for s in segs for iv in review.intervals):
            corrected = review.summary(segs, labels, only_segments=True)
        # the queue's for the patient too
        h = share_headline(summ, uncertain_below=below, noisy=poor_channel(result, speaker_normalisation(result, k)))
        out.append(SpeakerView(k, display_name(session, k), k == patient, h.label, h.value, summ.speech_seconds,
                               turns.get(k, 0), summ, corrected, h.uncertain))
    return out


def _turns(session: Session, result: Any) -> dict[int, int]:
    """How often each speaker takes the floor (:func:`ser_engine.summary.speaker_turns`, with the
    clinician's corrections applied)."""
    from ser_engine.summary import speaker_turns

    return speaker_turns(result.segments, lambda seg: session.reviews.speaker_of(result, seg))


def _speaker_in_scope(session: Session) -> SpeakerView | None:
    if session.scope is None:
        return None
    return next((v for v in speaker_views(session) if v.index == session.scope), None)


def scope_choices(session: Session) -> list[tuple[int | None, str]]:
    """What the headline can answer for: each speaker (the patient first), then everyone.
    Empty for a recording of one speaker."""
    views = speaker_views(session)
    if not views:
        return []
    return [(v.index, v.choice()) for v in views] + [(None, "All speakers")]


def _too_noisy(snr: float | None) -> str | None:
    from ser_engine.vad import SNR_UNCERTAIN_DB

    if not too_noisy(snr):
        return None
    return (f"too noisy: speech only {snr:.0f} dB above the noise (below {SNR_UNCERTAIN_DB:.0f} dB labels are "
            "often wrong)")


def uncertain_reasons(session: Session) -> list[str]:
    """Why the headline is marked uncertain: "low confidence: …", "too noisy: 9 dB …" (both
    can hold). Empty when it is not uncertain."""
    h = headline_view(session)
    result = session.selected_result()
    if h is None or not h.uncertain or result is None:
        return []
    below = session.uncertain_below
    seg = session.selected_segment()
    if seg is not None:
        conf, snr = seg.confidence, seg.snr_db
        norm = speaker_normalisation(result, seg.speaker) if seg.speaker is not None else result.normalisation
    else:
        speaker = _speaker_in_scope(session)
        conf = speaker.share if speaker is not None else result.confidence
        snr = result.snr_db
        norm = speaker_normalisation(result, speaker.index) if speaker is not None else result.normalisation
    low = conf is not None and conf < below
    reasons = [f"low confidence: {conf:.0%}, below the model's {below:.0%}"] if low else []
    reasons += channel_reasons(result, snr, norm, answer=seg is None)
    return reasons or ["marked uncertain by the analysis"]


def channel_reasons(result: Any, snr: float | None, norm: Any = None, *, answer: bool = True) -> list[str]:
    """Why what the channel did to the speech makes a label uncertain, in a clinician's words:
    too noisy (speech ``snr`` dB above the noise), narrow band and labelled alone (``norm``: the
    normalisation of the speech read; None: the recording's), and for a recording's ``answer`` (its
    shares, not one segment's label) a noisy room that may have hidden quiet speech."""
    reasons = [_too_noisy(snr), narrow_band_reason(result, norm), quiet_speech_reason(result) if answer else None]
    return [r for r in reasons if r]


def noise_text(session: Session) -> str:
    """How far the speech lies above the noise: the recording's and the selected segment's."""
    result = session.selected_result()
    if result is None:
        return ""

    def db(value: float | None) -> str:
        return "not measurable" if value is None else f"{value:.0f} dB"

    text = f"Speech above the noise: {db(result.snr_db)} (recording)"
    seg = session.selected_segment()
    if seg is not None and seg.is_speech:
        text += f" · {db(seg.snr_db)} (this segment)"
    return text


@dataclasses.dataclass(frozen=True)
class NormalisationView:
    """``text``: how the answer shown was normalised, in the engine's words
    (:meth:`ser_engine.results.Normalisation.describe`, with its refusal note); ``warning``:
    a baseline was asked for and refused; ``reference``: the neutral reference in use for
    this recording, or being read; ``problem``: why the last one marked was refused."""

    text: str
    warning: bool
    reference: str
    problem: str


def normalisation_view(session: Session) -> NormalisationView | None:
    result = session.selected_result()
    if result is None:
        return None
    norm, mix = result.normalisation, getattr(result, "emotion_mix", None)
    if session.scope is not None and session.selected_segment() is None:
        speaker = result.speaker_result(session.scope)
        if speaker is not None:
            norm, mix = speaker.normalisation or norm, speaker.emotion_mix
    describe = getattr(norm, "describe", None)
    text = "Normalised with " + (describe(session.speaker_label) if describe is not None else str(norm))
    if mix == MIX_RECORDING:  # the departure from what every clip assumes is said; the default is not
        text += "; " + describe_mix(mix)
    ref = session.reference_for(session.selected)
    checking = session.checking_reference
    if checking is not None:
        reference = f"Reading the neutral reference {checking.describe()}…"
    elif ref is not None:
        where = Path(ref.folder).name or ref.folder
        reference = f"Neutral reference for the recordings under {where}: {ref.describe()}"
    else:
        reference = ""
    problem = f"Reference not used: {session.reference_problem}" if session.reference_problem else ""
    return NormalisationView(text, bool(getattr(norm, "note", None)), reference, problem)


def normalisation_text(session: Session) -> str:
    """How the selected recording (or the speaker in scope) was normalised, in words."""
    view = normalisation_view(session)
    return view.text if view is not None else ""


def speakers_line(session: Session) -> str:
    """How many speakers the selected recording was analysed with, and whether that number
    was given or guessed ("" for one speaker, as given)."""
    e = session.selected_entry()
    result = session.selected_result()
    if e is None or result is None:
        return ""
    n = len(session.speakers_of()) if result.speakers else 1
    found = len(result.speakers) or 1
    used = e.speakers_used
    if used == ESTIMATE:
        text = (f"{found} speaker{'s' * (found != 1)} estimated: a guess (right {ESTIMATE_RIGHT}); "
                "choose the number under Speakers if you know it")
    elif found == 1:
        return ""
    else:
        text = f"{found} speakers, as you said"
    if n != found:
        text += f"; {n} after your corrections"
    return text


def speaker_line(session: Session) -> str:
    """Who spoke the selected segment, and how to change it ("" without speakers)."""
    result = session.selected_result()
    seg = session.selected_segment()
    if result is None or seg is None or not seg.is_speech or len(result.speakers) < 2:
        return ""
    who = session.reviews.speaker_of(result, seg)
    if who is None:
        return ""
    moved = " (your correction)" if who != seg.speaker else ""
    return f"Spoken by {display_name(session, who)}{moved} · S: the next speaker's"


def clinician_view(session: Session) -> tuple[str, str] | None:
    """The clinician line for the target (the selected segment or the marked stretch):
    ``(kind, text)`` with kind "label" (text: the label), "none", "stretch" (text: the marked
    stretch's time, and its label when it is exactly one of the clinician's) or "unavailable"
    (text: why); None without a target."""
    result = session.selected_result()
    target = session.target()
    if result is None or target is None:
        return None
    problem = session.reviews.problem(result.path)
    if problem:
        return "unavailable", problem
    start, end, kind = target
    if kind == "stretch":
        found = session.reviews.interval_at(result, (start + end) / 2)
        same = found is not None and abs(found[0] - start) < 1e-3 and abs(found[1] - end) < 1e-3
        return "stretch", span(start, end) + (f": {found[2]}" if same else "")
    label = session.reviews.label_for(result, session.selected_segment())
    return ("label", label) if label else ("none", "")


def segment_rows(session: Session) -> list[tuple[str, str]]:
    """``[(text, label), ...]`` of the segment list of the selected recording (with its
    speaker when the recording has several)."""
    result = session.selected_result()
    many = result is not None and len(result.speakers) > 1
    rows = []
    for seg in session.segments_of(session.selected):
        conf = "" if seg.confidence is None else f"  {seg.confidence:.0%}"
        label = seg.label if seg.label else NO_SPEECH
        who = ""
        if many and seg.is_speech:
            k = session.reviews.speaker_of(result, seg)
            who = "" if k is None else f"  · {session.speaker_label(k)}"
        rows.append((f"{clock(seg.start):>9}–{clock(seg.end):>9}   {label}{conf}{who}", label))
    return rows
