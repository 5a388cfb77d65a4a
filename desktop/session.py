"""The Analyse tab's state, without Qt: the queue of recordings, the selection, each
recording's result and clinician tier, the model in use and the batch's progress.

The habit of napari's ``ViewerModel``: views subscribe to :attr:`Session.events`, controllers
and the window change the session through its methods, and tests drive it without a window.
Every view that shows a recording reads it from here, so a selection change, a model switch or
a re-analysis reaches all of them (before, the window kept this state in 52 attributes spread
over three mixins, and some views were not told).

The session holds each recording's engine result object as the engine made it
(``Entry.result``; a :class:`ser_engine.results.Timeline`): nothing copies its fields into
parallel state, so what the engine's result carries is what every view shows.

Events (arguments in brackets):

- ``added`` (paths), ``changed`` (path), ``cleared`` (): the queue.
- ``selected`` (path, "" for none), ``segment`` (index, -1 for the whole recording).
- ``model`` (): loading, ready or failed (:attr:`Session.model_state`, :attr:`Session.model`).
- ``removed`` (path): one recording left the queue.
- ``review`` (path): the review of ``path`` changed and was saved: a label (of a segment or a
  stretch), a split, a merge, a boundary moved, a note, the reviewed state, imported annotations,
  who speaks (a segment given to another speaker, speakers merged or named, the patient chosen),
  an undo or a redo.
- ``queue_view`` (): what the queue shows changed (:class:`~desktop.queue_view.QueueView`).
- ``job`` (:class:`Job`): these files are to be analysed now, and how (the window sends it to
  the analysis worker); ``stop`` (): the running job must stop (Cancel, Clear).
- ``progress`` (): the batch moved; ``idle`` (): nothing queued or analysing and the model settled.
- ``message`` (text, milliseconds): a line for the status bar.
- ``baseline`` (on): the speaker-baseline option changed.
- ``speakers`` (count): the number of speakers for what is analysed next changed.
- ``check_reference`` (:class:`Reference`): a neutral reference the user marked, for the worker
  to build (it answers :meth:`Session.reference_checked`); ``reference`` (): the references in
  use, or the refusal of one, changed.
- ``stretch`` (): the stretch of the selected recording the user marked changed (Shift+drag in
  the timeline, a drag in the clinician tier, a click on a label of the clinician's).
- ``scope`` (): whose answer the headline and bars show changed (a speaker, or all of them).

**Speakers.** The number of speakers (1, 2, 3 or :data:`ESTIMATE`) is chosen for the selected
recording — it is analysed again with it, and its review remembers it — and becomes the number
for recordings analysed next. A recording with speakers answers for each of them; the headline
shows the patient's answer (the speaker the user chose, remembered in the review) first.

**The clinician's review.** What 1–8, 0 and N act on is the *target*: the marked stretch when
there is one, else the selected segment (marking a stretch drops the segment's selection and
selecting a segment drops the stretch, so there is one target at a time). Split and merge act
on the clinician's label at the cursor; a boundary is moved by dragging it. Each edit is saved
at once and is one step of Undo and Redo. Every finished recording carries its
:class:`~desktop.review_controller.ReviewMark` (reviewed, corrections, notes) for the queue.

**A neutral reference.** The user marks a recording, or a stretch of one, as the speaker's
neutral reference. Every recording in the queue under the reference's folder (its folder and
the folders in it: one speaker's visits) is then normalised with a speaker baseline from it
and analysed again. The worker builds the baseline first; one the engine refuses (too little
speech) is never used: the session keeps the reason for the panel and analyses nothing again.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import logging
from pathlib import Path
from typing import Any

from ser_engine.channel import poor_channel, speaker_normalisation
from ser_engine.results import UNCERTAIN_BELOW, segment_at, speaker_name

from .events import EmitterGroup
from .headline import Headline, headline, is_long, share_headline
from .queue_view import QueueView
from .review_controller import ReviewController, ReviewMark

logger = logging.getLogger(__name__)

QUEUED, ANALYSING, DONE, ERROR, CANCELLED = "queued", "analysing", "done", "error", "cancelled"
MODEL_LOADING, MODEL_READY, MODEL_FAILED = "loading", "ready", "failed"
#: The number of speakers the engine is asked to find by estimating it (ser_engine.review.ESTIMATE).
ESTIMATE = "estimate"
#: What the user can choose as the number of speakers.
SPEAKER_CHOICES: tuple[int | str, ...] = (1, 2, 3, ESTIMATE)
DEFAULT_SPEAKERS: int | str = 1
#: How often an estimated number of speakers was right: 82.7% of the two-speaker and
#: one-speaker sessions of actors 11-20 (BENCHMARKS.md, "Speaker turns").
ESTIMATE_RIGHT = "about 4 times in 5"


def speakers_text(count: int | str | None) -> str:
    """``2`` -> "2 speakers"; :data:`ESTIMATE` -> "speakers estimated"."""
    if count == ESTIMATE:
        return "speakers estimated"
    return _plural(int(count or 1), "speaker")


@dataclasses.dataclass(frozen=True)
class Reference:
    """A neutral reference the user marked: a recording, or the stretch ``span`` (seconds) of it.
    It normalises the recordings under ``folder``."""

    path: str
    span: tuple[float, float] | None
    folder: str

    def describe(self) -> str:
        from .timefmt import span

        name = Path(self.path).name
        return name if self.span is None else f"{name} {span(*self.span)}"

    def covers(self, path: str) -> bool:
        return Path(path).is_relative_to(self.folder)


@dataclasses.dataclass(frozen=True)
class Job:
    """What the analysis worker is to do now.

    ``paths`` in order; ``speaker_baseline``: they are one folder's recordings, one speaker
    (:meth:`ser_engine.predictor.Predictor.analyse_group`); ``speakers``: the number of
    speakers chosen for each path (None: ``default_speakers``; a recording whose review
    remembers another number is analysed again with it when its result arrives: hashing every
    file first to read its review would slow every analysis);
    ``references``: the neutral reference normalising each path (None: none).
    """

    paths: list[str]
    speaker_baseline: bool = False
    speakers: dict[str, int | str | None] = dataclasses.field(default_factory=dict)
    default_speakers: int | str = DEFAULT_SPEAKERS
    references: dict[str, Reference | None] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Entry:
    """One recording of the queue.

    ``result`` is the engine's result as it is (a Timeline) once ``status`` is done;
    ``partial`` the segments streamed while it is analysed (the result's replace them); ``headline`` the result's
    :class:`~desktop.headline.Headline`, computed once; ``answer`` what the queue says of it:
    the patient's answer once the user chose the patient of a recording with speakers (the
    panel's headline shows the same first), else ``headline``.
    """

    path: str
    status: str = QUEUED
    duration: float | None = None
    result: Any = None
    error: str = ""
    progress: float | None = None
    partial: list = dataclasses.field(default_factory=list)
    headline: Headline | None = None
    answer: Headline | None = None
    #: The number of speakers the user chose for this recording (None: not chosen).
    speakers: int | str | None = None
    #: The number of speakers its result was analysed with (as the worker resolved it).
    speakers_used: int | str | None = None
    #: What its review holds, for the queue (None: not analysed, or its review unreadable).
    mark: ReviewMark | None = None
    #: When its result arrived (the report's "Analysed").
    analysed_at: datetime.datetime | None = None

    @property
    def final(self) -> bool:
        """Analysed and not being analysed again."""
        return self.result is not None and self.status == DONE

    def segments(self) -> list:
        """The segments to show: the result's, or those final so far while it is analysed."""
        if self.status == ANALYSING:
            return self.partial
        return list(self.result.segments) if self.result is not None else []


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """The model the analysis worker loaded (what the window shows of it)."""

    model_id: str
    version: str
    labels: tuple[str, ...]
    card: str = ""
    uncertain_below: float = UNCERTAIN_BELOW
    source: str = ""
    warning: str = ""


@dataclasses.dataclass(frozen=True)
class BatchProgress:
    """The progress bar of the batch: ``value`` of ``maximum`` and its text."""

    value: int
    maximum: int
    text: str


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


class Session:
    """The Analyse tab's model. All methods run on the GUI thread."""

    def __init__(self, *, reviews: ReviewController | None = None, default_labels: tuple[str, ...] = ()) -> None:
        self.events = EmitterGroup("added", "changed", "cleared", "removed", "selected", "segment", "model", "review",
                                   "job", "stop", "progress", "idle", "message", "baseline", "speakers",
                                   "check_reference", "reference", "stretch", "scope", "queue_view")
        self.reviews = reviews if reviews is not None else ReviewController()
        self._entries: dict[str, Entry] = {}
        self._selected = ""
        self._segment = -1
        self._job: list[str] | None = None
        self._requeue: set[str] = set()  # paths of a job stopped by a removal, analysed again
        self._queue_view = QueueView()
        self._batch_done = 0
        self._speaker_baseline = False
        self._speakers: int | str = DEFAULT_SPEAKERS
        self._references: dict[str, Reference] = {}  # by folder
        self._checking: Reference | None = None
        self._reference_problem = ""
        self._stretch: tuple[float, float] | None = None
        self._scope: int | None = None
        self._default_labels = tuple(default_labels)
        self.model: ModelInfo | None = None
        self.model_state = MODEL_LOADING
        self.model_error = ""

    # -- queries ----------------------------------------------------------------------------------
    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, path: str) -> Entry:
        return self._entries[path]

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def paths(self) -> list[str]:
        return list(self._entries)

    def paths_with_status(self, *statuses: str) -> list[str]:
        return [e.path for e in self._entries.values() if e.status in statuses]

    def labels(self) -> tuple[str, ...]:
        """The emotions of the model in use (the default set before one is loaded)."""
        if self.model is not None:
            return self.model.labels
        if self._default_labels:
            return self._default_labels
        from ser_engine import EMOTIONS

        return tuple(EMOTIONS)

    @property
    def selected(self) -> str:
        """The selected recording's path ("" when none)."""
        return self._selected

    @property
    def segment(self) -> int:
        """The selected segment of the selected recording (-1: the whole recording)."""
        return self._segment

    @property
    def speaker_baseline(self) -> bool:
        return self._speaker_baseline

    @property
    def speakers(self) -> int | str:
        """The number of speakers for recordings analysed next (1, 2, 3 or :data:`ESTIMATE`)."""
        return self._speakers

    def speakers_shown(self) -> int | str:
        """The number of speakers of the selected recording (what it was analysed with, or is
        to be), else the one for what is analysed next: what the Speakers control shows."""
        e = self.selected_entry()
        if e is not None:
            for count in (e.speakers, e.speakers_used):
                if count is not None:
                    return count
        return self._speakers

    @property
    def stretch(self) -> tuple[float, float] | None:
        """The stretch of the selected recording the user marked (seconds), or None."""
        return self._stretch

    @property
    def scope(self) -> int | None:
        """Whose answer the headline and bars show: a speaker's index, or None for everyone."""
        return self._scope

    @property
    def reference_problem(self) -> str:
        """Why the last neutral reference the user marked was refused ("" when it was not)."""
        return self._reference_problem

    @property
    def checking_reference(self) -> Reference | None:
        return self._checking

    def references(self) -> list[Reference]:
        return list(self._references.values())

    def reference_for(self, path: str) -> Reference | None:
        """The neutral reference normalising ``path`` (the one of the deepest folder holding it)."""
        found = [r for r in self._references.values() if r.covers(path)]
        return max(found, key=lambda r: len(Path(r.folder).parts)) if found else None

    def speakers_of(self, path: str | None = None) -> list[int]:
        """The speakers of a finished recording (the selected one) after the clinician's
        corrections, the patient first; empty when its speakers were not found."""
        e = self._entries.get(path or self._selected)
        if e is None or not e.final or not e.result.speakers:
            return []
        return self.reviews.speakers(e.result)

    def speaker_label(self, index: int, path: str | None = None) -> str:
        """``"Patient"`` or ``"S2"``."""
        e = self._entries.get(path or self._selected)
        if e is None or e.result is None:
            return speaker_name(index)
        return self.reviews.speaker_label(e.result, index)

    @property
    def uncertain_below(self) -> float:
        """The model's "uncertain" threshold (its default before a model is loaded)."""
        return self.model.uncertain_below if self.model is not None else ModelInfo.uncertain_below

    def speaker_segments(self, index: int, path: str | None = None) -> list:
        """One speaker's segments of a finished recording (the selected one), after the
        clinician's speaker corrections."""
        result = self._entries[path or self._selected].result
        review = self.reviews.speaker_review(result)
        if review is not None:
            return list(review.segments_of(result.segments, index))
        return [s for s in result.segments if s.speaker == index]

    def speaker_summary(self, index: int, path: str | None = None) -> Any:
        """The :class:`~ser_engine.summary.Summary` of one speaker's speech (see
        :meth:`speaker_segments`)."""
        from ser_engine.summary import summarise

        return summarise(self.speaker_segments(index, path), self.labels())

    def _answer(self, e: Entry) -> Headline | None:
        """``e.answer``: the patient's :class:`Headline` when the user chose the patient, else
        the recording's."""
        if not e.final or not e.result.speakers:
            return e.headline
        patient = self.reviews.patient(e.result)
        if patient is None or patient not in self.speakers_of(e.path):
            return e.headline
        return share_headline(self.speaker_summary(patient, e.path), uncertain_below=self.uncertain_below,
                              noisy=poor_channel(e.result, speaker_normalisation(e.result, patient)), patient=True)

    def selected_entry(self) -> Entry | None:
        return self._entries.get(self._selected)

    def selected_result(self) -> Any:
        """The selected recording's result when its analysis is final, else None."""
        e = self.selected_entry()
        return e.result if e is not None and e.final else None

    def segments_of(self, path: str) -> list:
        e = self._entries.get(path)
        return e.segments() if e is not None else []

    def selected_segment(self) -> Any:
        segs = self.segments_of(self._selected)
        return segs[self._segment] if 0 <= self._segment < len(segs) else None

    def selected_duration(self) -> float:
        """The selected recording's length in seconds (0 while unknown)."""
        e = self.selected_entry()
        if e is None:
            return 0.0
        if e.result is not None:
            return float(e.result.duration)
        return float(e.duration or 0.0)

    def clinician_intervals(self, path: str | None = None) -> list[tuple[float, float, str]]:
        """``[(start, end, label), ...]`` of the clinician tier of ``path`` (the selected one);
        empty while it is not analysed (an error row, a queued file)."""
        e = self._entries.get(path or self._selected)
        if e is None or not e.final:
            return []
        return self.reviews.intervals(e.result)

    def is_job_running(self) -> bool:
        return self._job is not None

    def model_settled(self) -> bool:
        return self.model_state != MODEL_LOADING

    def is_idle(self) -> bool:
        return self.model_settled() and self._job is None and not self.paths_with_status(QUEUED)

    def labelled_by_other_models(self) -> list[str]:
        """Paths whose result came from a model other than the one in use."""
        active = self.model.model_id if self.model is not None else ""
        return [e.path for e in self._entries.values() if e.result is not None and e.result.model_id != active]

    def counts_text(self) -> str:
        """``12 files · 10 done · 1 error · 1 cancelled`` ("" for an empty queue)."""
        if not self._entries:
            return ""
        counts = collections.Counter(e.status for e in self._entries.values())
        parts = [_plural(len(self._entries), "file")]
        parts += [f"{counts[s]} {s}" for s in (DONE, ERROR, CANCELLED) if counts[s]]
        return " · ".join(parts)

    def batch_progress(self) -> BatchProgress | None:
        """One bar for the batch, moving within each file as its blocks are analysed (a single
        long file shows its own percentage); None when nothing is pending."""
        analysing = [e for e in self._entries.values() if e.status == ANALYSING]
        remaining = len(self.paths_with_status(QUEUED)) + len(analysing)
        total = self._batch_done + remaining
        if remaining == 0 or total == 0:
            return None
        within = sum(e.progress or 0.0 for e in analysing)
        value = int(round((self._batch_done + within) * 1000))
        if total == 1 and len(analysing) == 1:
            text = f"{Path(analysing[0].path).name[:18]}: {within:.0%}"
        else:
            text = f"{self._batch_done} of {total}" + (f" · {within:.0%}" if within else "")
        return BatchProgress(value, total * 1000, text)

    # -- the queue ---------------------------------------------------------------------------------
    def add(self, paths: list[str]) -> list[str]:
        """Queue ``paths`` (already expanded to files). Returns those new to the queue.

        A path already queued but cancelled is queued again: opening a cancelled folder again
        resumes it (before, it was ignored as a duplicate and its rows stayed "cancelled").
        """
        new: list[str] = []
        resumed: list[str] = []
        for p in paths:
            p = str(p)
            e = self._entries.get(p)
            if e is None and p not in new:
                new.append(p)
            elif e is not None and e.status == CANCELLED and p not in resumed:
                resumed.append(p)
        for p in new:
            self._entries[p] = Entry(p)
        if new:
            self.events.added.emit(list(new))
        for p in resumed:
            self._set_status(p, QUEUED)
        if new or resumed:
            self.events.message.emit(f"Queued {_plural(len(new) + len(resumed), 'file')}", 3000)
            if not self._selected:
                self.select((new or resumed)[0])
        self.dispatch()
        return new

    def clear(self) -> None:
        """Empty the queue (a running job is stopped)."""
        if self._job is not None:
            self.events.stop.emit()
        self._entries.clear()
        self._job = None
        self._requeue.clear()
        self._batch_done = 0
        self._selected, self._segment = "", -1
        self._stretch, self._scope = None, None
        self._references.clear()
        self._checking, self._reference_problem = None, ""
        self.reviews.forget()
        self.events.reference.emit()
        self.events.cleared.emit()
        self.events.selected.emit("")
        self.events.progress.emit()
        self.dispatch()

    def remove(self, path: str, *, then_select: str | None = None) -> bool:
        """Take ``path`` out of the queue (its review stays saved). The selection moves to
        ``then_select`` (default: the next recording in the queue). A job analysing it is
        stopped; the job's other files are analysed again."""
        e = self._entries.get(path)
        if e is None:
            return False
        order = self.paths()
        if self._job is not None and path in self._job:
            self._requeue |= set(self._job) - {path}
            self.events.stop.emit()
        if path == self._selected:
            i = order.index(path)
            neighbour = then_select if then_select in self._entries and then_select != path else (
                order[i + 1] if i + 1 < len(order) else order[i - 1] if i > 0 else "")
            self.select(neighbour)
        del self._entries[path]
        self.reviews.forget(path)
        self.events.removed.emit(path)
        self.events.message.emit(f"{Path(path).name} removed from the queue (its review is kept)", 4000)
        self.events.progress.emit()
        self.dispatch()
        return True

    @property
    def queue_view(self) -> QueueView:
        """Which recordings the queue shows (:class:`~desktop.queue_view.QueueView`)."""
        return self._queue_view

    def set_queue_view(self, view: QueueView) -> None:
        if view != self._queue_view:
            self._queue_view = view
            self.events.queue_view.emit()

    def shown(self, path: str) -> bool:
        """Whether the queue shows ``path`` under the current :attr:`queue_view`."""
        e = self._entries.get(path)
        return e is not None and self._queue_view.accepts(e)

    def cancel(self) -> None:
        """Stop the batch: the file being analysed stops within a block, the others become
        'cancelled' (Analysis ▸ Analyse again, or opening them again, resumes them)."""
        self.events.stop.emit()
        for path in self.paths_with_status(QUEUED):
            self._set_status(path, CANCELLED)
        self.events.message.emit("Cancelled: Analysis ▸ Analyse again resumes", 5000)
        self.events.progress.emit()
        self.dispatch()

    def reanalyse(self, statuses: tuple[str, ...] = (CANCELLED, DONE)) -> int:
        """Queue the files with ``statuses`` again (default: cancelled and finished ones).
        Returns how many."""
        paths = self.paths_with_status(*statuses)
        for path in paths:
            self._set_status(path, QUEUED)
        self.dispatch()
        return len(paths)

    def set_speaker_baseline(self, on: bool, *, reanalyse: bool = True) -> None:
        """Normalise by each folder's own statistics (or not); finished files are analysed
        again unless ``reanalyse`` is False (restoring the setting at start-up)."""
        on = bool(on)
        if on == self._speaker_baseline:
            return
        self._speaker_baseline = on
        self.events.baseline.emit(on)
        if not reanalyse:
            return
        n = self.reanalyse()
        if n:
            mode = "speaker baseline" if on else "global normalisation"
            self.events.message.emit(f"Re-analysing {_plural(n, 'file')} with {mode}…", 4000)

    def set_durations(self, durations: dict[str, float]) -> None:
        """``{path: seconds}`` read from the file headers, before analysis."""
        for path, seconds in durations.items():
            e = self._entries.get(path)
            if e is not None and e.result is None:
                e.duration = float(seconds)
                self.events.changed.emit(path)

    # -- the model ---------------------------------------------------------------------------------
    def set_model_loading(self) -> None:
        self.model_state = MODEL_LOADING
        self.events.model.emit()
        self.events.message.emit("Loading the model…", 0)

    def set_model_ready(self, info: ModelInfo) -> None:
        """The worker loaded ``info``'s model: new files are labelled by it; rows labelled by
        another keep their labels (each names its model) until analysed again."""
        self.model, self.model_state, self.model_error = info, MODEL_READY, ""
        self.events.model.emit()
        for path in self._entries:  # the Model column and the tooltips compare with it
            self.events.changed.emit(path)
        self.dispatch()
        others = self.labelled_by_other_models()
        if info.warning:
            self.events.message.emit(info.warning, 8000)
        elif others:  # after dispatch(): this must not be replaced by "Ready"
            self.events.message.emit(
                f"Now using {info.model_id}. {_plural(len(others), 'file')} labelled by another model keep their "
                "labels (Model column); Analysis ▸ Analyse again re-labels them.", 10000)

    def set_model_failed(self, reason: str) -> None:
        self.model, self.model_state, self.model_error = None, MODEL_FAILED, reason
        self.events.model.emit()
        self.dispatch()

    # -- analysis: what the worker reports ----------------------------------------------------------
    def dispatch(self) -> None:
        """Start the next job (the ``job`` event), or announce that the queue is settled."""
        if self._job is not None:
            return
        if self.model_state != MODEL_READY:
            if self.model_settled():
                self._settle()
            return
        pending = self.paths_with_status(QUEUED)
        if not pending:
            self._settle()
            return
        first = pending[0]
        baseline = self._speaker_baseline and self._groups(first)
        if baseline:  # the whole folder is one speaker: its finished clips join the new files
            folder = Path(first).parent
            job = [p for p in self.paths_with_status(QUEUED, DONE)
                   if Path(p).parent == folder and self._joins_group(p) and self._groups(p)]
            where = f"{len(job)} files of {folder.name or folder} (speaker baseline)"
        else:
            job = [first]
            ref = self.reference_for(first)
            where = Path(first).name + (f" (reference {ref.describe()})" if ref is not None else "")
        self._job = job
        for p in job:
            e = self._entries[p]
            e.status, e.progress, e.partial = ANALYSING, None, []
            self.events.changed.emit(p)
        self.events.progress.emit()
        self.events.message.emit(f"Analysing {where}…", 0)
        if self._segment >= 0 and self._selected in job:
            self.select_segment(-1)
        self.events.job.emit(Job(list(job), baseline, {p: self._entries[p].speakers for p in job}, self._speakers,
                                 {p: self.reference_for(p) for p in job}))

    def _groups(self, path: str) -> bool:
        """Whether ``path`` may join its folder's speaker group: not when a neutral reference
        normalises it, or the user chose its own number of speakers."""
        return self.reference_for(path) is None and self._entries[path].speakers is None

    def _joins_group(self, path: str) -> bool:
        """A queued file, or a finished clip; a finished long recording is its own baseline and
        would only be analysed again, with the same result."""
        e = self._entries[path]
        return e.status == QUEUED or e.result is None or not is_long(e.result)

    def _settle(self) -> None:
        self._batch_done = 0
        self.events.progress.emit()
        if self.model_state == MODEL_READY:
            self.events.message.emit("Ready", 0)
        else:
            self.events.message.emit("No model: see the panel on the right", 0)
        self.events.idle.emit()

    def block_arrived(self, path: str, fraction: float, new_segments: list) -> None:
        """A block of ``path`` was analysed: how far it got, and the segments now final."""
        e = self._entries.get(path)
        if e is None or e.status != ANALYSING:
            return
        e.progress = float(fraction)
        e.partial = e.partial + list(new_segments) if new_segments else e.partial
        self.events.changed.emit(path)
        self.events.progress.emit()

    def result_arrived(self, result: Any) -> bool:
        """A result (or a Failure) from the worker; False for a path no longer queued."""
        e = self._entries.get(result.path)
        if e is None:
            return False
        # the final segments may differ from the streamed ones (a session's own emotion mix):
        # the selected segment is found again by where it was, not by its index
        selected_at = self._selected_time() if result.path == self._selected else None
        e.progress, e.partial = None, []
        if result.ok:
            e.status, e.result, e.error, e.duration = DONE, result, "", float(result.duration)
            e.headline = headline(result)
            e.analysed_at = datetime.datetime.now().astimezone()
            if e.speakers is None:  # the number the user chose for this recording before, in its review
                e.speakers = self.reviews.speaker_count(result)
            if e.speakers is not None and e.speakers_used not in (None, e.speakers):
                # chosen while it was analysed, or remembered: analysed again with it
                e.status = QUEUED
                self.events.message.emit(f"Analysing {Path(e.path).name} again with {speakers_text(e.speakers)} "
                                         "(as chosen for it)", 5000)
        else:
            e.status, e.result, e.error, e.headline = ERROR, None, result.error, None
        self.reviews.forget(result.path)
        e.mark = self.reviews.mark(result) if result.ok else None
        e.answer = self._answer(e)
        self._batch_done += 1
        if result.path == self._selected:
            self._scope = self._default_scope()
            self._segment = -1 if selected_at is None else segment_at(self.segments_of(result.path), selected_at)
        self.events.changed.emit(result.path)
        self.events.progress.emit()
        if not self._selected:
            self.select(result.path)
        return True

    def job_finished(self, paths: list[str]) -> None:
        """The worker is done with ``paths``; those never answered were cancelled."""
        for p in paths:
            e = self._entries.get(p)
            if e is not None and e.status == ANALYSING:
                requeue = p in self._requeue  # stopped only because another file left the queue
                e.status = QUEUED if requeue else DONE if e.result is not None else CANCELLED
                e.progress, e.partial = None, []
                self.events.changed.emit(p)
        self._requeue.clear()
        self._job = None
        self.events.progress.emit()
        self.dispatch()

    def _set_status(self, path: str, status: str) -> None:
        e = self._entries[path]
        e.status, e.progress = status, None
        if status != ERROR:
            e.error = ""
        self.events.changed.emit(path)

    # -- selection ----------------------------------------------------------------------------------
    def select(self, path: str) -> None:
        """Make ``path`` the selected recording ("" for none); its segment selection is dropped."""
        path = path if path in self._entries else ""
        if path == self._selected:
            return
        self._selected, self._segment = path, -1
        self._stretch = None
        self._scope = self._default_scope()
        self.events.selected.emit(path)

    def _selected_time(self) -> float | None:
        """The middle of the selected segment of the selected recording (None: none selected)."""
        segs = self.segments_of(self._selected)
        if not 0 <= self._segment < len(segs):
            return None
        return (segs[self._segment].start + segs[self._segment].end) / 2

    def select_segment(self, index: int) -> bool:
        """Select segment ``index`` of the selected recording (-1: the whole recording)."""
        segs = self.segments_of(self._selected)
        if index != -1 and not 0 <= index < len(segs):
            return False
        self._segment = index
        self.events.segment.emit(index)
        if index >= 0 and self._stretch is not None:  # one target at a time
            self._stretch = None
            self.events.stretch.emit()
        return True

    def step_segment(self, delta: int, *, from_time: float = 0.0) -> bool:
        """The previous or next segment; with none selected, the one at or after ``from_time``."""
        segs = self.segments_of(self._selected)
        if not segs:
            return False
        if self._segment < 0:
            here = segment_at(segs, from_time)
            index = max(here, 0) if delta > 0 else max(here - 1, 0)
        else:
            index = min(max(self._segment + delta, 0), len(segs) - 1)
        return self.select_segment(index)

    # -- the clinician tier ------------------------------------------------------------------------------
    def target(self) -> tuple[float, float, str] | None:
        """What 1–8, 0 and N act on: ``(start, end, "stretch")`` for the marked stretch, else
        ``(start, end, "segment")`` for the selected segment; None when neither."""
        if self._stretch is not None:
            return (*self._stretch, "stretch")
        seg = self.selected_segment()
        return None if seg is None else (seg.start, seg.end, "segment")

    def _editable(self, what: str = "Corrections") -> Entry | None:
        """The selected finished recording, or None (and the status bar says why)."""
        e = self.selected_entry()
        if e is None or not e.final:
            self.events.message.emit(f"{what} can be made once the analysis of this file is finished", 5000)
            return None
        return e

    def _review_changed(self, path: str) -> None:
        """The review of ``path`` was saved: its queue mark, then the ``review`` event."""
        e = self._entries.get(path)
        if e is not None and e.result is not None:
            e.mark = self.reviews.mark(e.result)
            e.answer = self._answer(e)
        self.events.review.emit(path)

    def _after_edit(self, e: Entry, error: str, done: str) -> bool:
        if error:
            self.events.message.emit(f"Not saved: {error}", 10000)
            return False
        self.events.message.emit(f"{done} (saved; Ctrl+Z undoes it)", 4000)
        self._review_changed(e.path)
        return True

    def set_clinician_label(self, number: int) -> bool:
        """Keys 1–8: the clinician's label (the model's labels, in order) for the marked stretch,
        else the selected segment; 0 clears it. Saved at once; the ``review`` event follows."""
        from .timefmt import span

        e = self._editable()
        if e is None:
            return False
        target = self.target()
        if target is None:
            self.events.message.emit("Select a segment first (click it in the timeline or the segment list), or "
                                     "drag in the clinician tier to mark a stretch", 5000)
            return False
        labels = self.labels()
        if not 0 <= number <= len(labels):
            return False
        label = None if number == 0 else labels[number - 1]
        start, end, kind = target
        if kind == "stretch":
            error = self.reviews.set_range_label(e.result, start, end, label)
        else:
            error = self.reviews.set_label(e.result, self.selected_segment(), label)
        what = f"set to {label}" if label else "cleared"
        return self._after_edit(e, error, f"Your label for {span(start, end)} {what}")

    def mark_clinician_label(self, t: float) -> bool:
        """A click on the clinician's label at ``t``: its stretch becomes the target."""
        e = self.selected_entry()
        found = self.reviews.interval_at(e.result, t) if e is not None and e.final else None
        if found is None:
            return False
        self.set_stretch(found[0], found[1])
        return True

    def split_label(self, t: float) -> bool:
        """Cut the clinician's label at ``t`` (the cursor) in two."""
        from .timefmt import clock

        e = self._editable()
        return e is not None and self._after_edit(e, self.reviews.split(e.result, t),
                                                  f"Your label split at {clock(t)}")

    def merge_label(self, t: float) -> bool:
        """Merge the clinician's label at ``t`` (the cursor) with the next one."""
        e = self._editable()
        if e is None:
            return False
        error = self.reviews.merge_next(e.result, t)
        merged = self.reviews.interval_at(e.result, t) if not error else None
        if merged is not None and self._stretch is not None:
            self.set_stretch(merged[0], merged[1])
        return self._after_edit(e, error, "Your labels merged")

    def move_boundary(self, t: float, new_t: float) -> bool:
        """Move the boundary at ``t`` of the clinician's labels to ``new_t`` (a drag)."""
        from .timefmt import clock

        e = self._editable()
        if e is None:
            return False
        error = self.reviews.move_boundary(e.result, t, new_t)
        if not error and self._stretch is not None:  # the marked label follows its edge
            found = self.reviews.interval_at(e.result, (self._stretch[0] + self._stretch[1]) / 2)
            if found is not None:
                self.set_stretch(found[0], found[1])
        edges = self.reviews.boundaries(e.result)
        where = min(edges, key=lambda b: abs(b - new_t)) if edges else new_t
        return self._after_edit(e, error, f"Boundary moved from {clock(t)} to {clock(where)}")

    # -- notes and the reviewed state ------------------------------------------------------------------
    def target_note(self) -> str:
        """The note on the target ("" when none)."""
        e, target = self.selected_entry(), self.target()
        if e is None or not e.final or target is None:
            return ""
        return self.reviews.note_for(e.result, target[0], target[1])

    def recording_note(self) -> str:
        result = self.selected_result()
        return self.reviews.note(result) if result is not None else ""

    def set_target_note(self, text: str) -> bool:
        """The note on the target (the marked stretch or the selected segment; "" removes it)."""
        from .timefmt import span

        e = self._editable("Notes")
        if e is None:
            return False
        target = self.target()
        if target is None:
            self.events.message.emit("Select a segment or mark a stretch first; Shift+N writes a note on the "
                                     "whole recording", 5000)
            return False
        error = self.reviews.set_segment_note(e.result, target[0], target[1], text)
        done = f"Your note on {span(target[0], target[1])}" + ("" if text.strip() else " removed")
        return self._after_edit(e, error, done)

    def set_recording_note(self, text: str) -> bool:
        """The note on the selected recording ("" removes it)."""
        e = self._editable("Notes")
        if e is None:
            return False
        error = self.reviews.set_note(e.result, text)
        done = f"Your note on {Path(e.path).name}" + ("" if text.strip() else " removed")
        return self._after_edit(e, error, done)

    def is_reviewed(self, path: str | None = None) -> bool:
        e = self._entries.get(path or self._selected)
        return bool(e is not None and e.mark is not None and e.mark.reviewed)

    def set_reviewed(self, reviewed: bool) -> bool:
        """Mark the selected recording reviewed (or not); the queue shows it."""
        e = self._editable("The review")
        if e is None:
            return False
        error = self.reviews.set_reviewed(e.result, reviewed)
        done = f"{Path(e.path).name} marked {'reviewed' if reviewed else 'not reviewed'}"
        return self._after_edit(e, error, done)

    def toggle_reviewed(self) -> bool:
        return self.set_reviewed(not self.is_reviewed())

    def import_annotations(self, imported: Any, *, replace: bool) -> bool:
        """An :class:`~ser_engine.annotations.ImportedTier` becomes the clinician tier of the
        selected recording (replacing it, or laid over it); one undo step."""
        e = self._editable("An import")
        if e is None:
            return False
        error = self.reviews.import_tier(e.result, imported, replace=replace)
        return self._after_edit(e, error, f"Imported {imported.describe()}")

    # -- navigation ---------------------------------------------------------------------------------------
    def step_uncertain(self, delta: int, *, from_time: float = 0.0) -> bool:
        """Select the next (``delta`` 1) or previous (-1) uncertain speech segment, from the
        selected one or, with none, from ``from_time`` (the cursor)."""
        segs = self.segments_of(self._selected)
        unsure = [i for i, seg in enumerate(segs) if seg.is_speech and seg.uncertain]
        if not unsure:
            self.events.message.emit("No uncertain segment in this recording", 4000)
            return False
        if self._segment >= 0:
            here = self._segment
            found = ([i for i in unsure if i > here] if delta > 0 else [i for i in unsure if i < here][-1:])
        else:
            found = ([i for i in unsure if segs[i].end > from_time] if delta > 0
                     else [i for i in unsure if segs[i].start < from_time][-1:])
        if not found:
            self.events.message.emit(f"No uncertain segment {'after' if delta > 0 else 'before'} this one "
                                     f"({_plural(len(unsure), 'uncertain segment')} in all)", 4000)
            return False
        return self.select_segment(found[0])

    # -- who speaks -------------------------------------------------------------------------------------
    def set_speakers(self, count: int | str, *, reanalyse: bool = True) -> None:
        """The number of speakers (1, 2, 3 or :data:`ESTIMATE`) of the selected recording and of
        the recordings analysed next. A finished recording selected and analysed with another
        number is analysed again with this one, and its review remembers it. ``reanalyse``
        False: only what is analysed next (restoring the setting at start-up)."""
        if count not in SPEAKER_CHOICES:
            raise ValueError(f"not a number of speakers: {count!r}")
        shown = self.speakers_shown()
        changed = count != self._speakers
        self._speakers = count
        if changed:
            self.events.speakers.emit(count)
        e = self.selected_entry()
        if not reanalyse or e is None or e.status == ERROR or shown == count:
            return
        e.speakers = count
        if e.result is not None:
            error = self.reviews.set_speaker_count(e.result, count)
            if error:
                logger.warning("the number of speakers of %s is not remembered: %s", e.path, error)
        if e.status in (DONE, CANCELLED):
            self._set_status(e.path, QUEUED)
            self.events.message.emit(f"Analysing {Path(e.path).name} again with {speakers_text(count)}…", 4000)
            self.dispatch()
        elif e.status == ANALYSING:
            self.events.message.emit(f"{Path(e.path).name} will be analysed again with {speakers_text(count)} "
                                     "when this analysis ends", 5000)

    def count_used(self, path: str, count: int | str) -> None:
        """The worker analyses ``path`` with ``count`` speakers (as it resolved them)."""
        e = self._entries.get(path)
        if e is not None:
            e.speakers_used = count

    def set_scope(self, speaker: int | None) -> None:
        """Show ``speaker``'s answer in the headline and bars (None: everyone's)."""
        if speaker is not None and speaker not in self.speakers_of():
            speaker = None
        if speaker != self._scope:
            self._scope = speaker
            self.events.scope.emit()

    def _default_scope(self) -> int | None:
        """The patient's answer first, when the user chose the patient."""
        e = self._entries.get(self._selected)
        if e is None or not e.final or not e.result.speakers:
            return None
        patient = self.reviews.patient(e.result)
        return patient if patient in self.speakers_of() else None

    def _speaker_edit(self, what: str) -> Any:
        """The selected finished recording with speakers, or None (and the status bar says why)."""
        e = self.selected_entry()
        if e is None or not e.final:
            self.events.message.emit("Speakers can be corrected once the analysis of this file is finished", 5000)
            return None
        if not e.result.speakers:
            self.events.message.emit(f"{Path(e.path).name} was analysed as one speaker: choose Speakers 2, 3 or "
                                     f"estimate to find who speaks, then {what}", 8000)
            return None
        return e

    def _after_speaker_edit(self, e: Entry, error: str, done: str) -> bool:
        if error:
            self.events.message.emit(f"Not saved: {error}", 10000)
            return False
        if self._scope is not None and self._scope not in self.speakers_of(e.path):
            self._scope = self._default_scope()
        self.events.message.emit(f"{done} (saved; Ctrl+Z undoes it)", 5000)
        self._review_changed(e.path)
        self.events.scope.emit()
        return True

    def move_segment_speaker(self, speaker: int | None = None) -> bool:
        """Give the selected segment to ``speaker`` (None: the next speaker, in turn)."""
        from .timefmt import span

        e = self._speaker_edit("give segments to another speaker")
        if e is None:
            return False
        seg = self.selected_segment()
        if seg is None or not seg.is_speech:
            self.events.message.emit("Select a speech segment first: click it in the timeline or the list", 5000)
            return False
        order = [r.index for r in e.result.speakers if self._resolve(e, r.index) == r.index]  # not merged away
        now = self.reviews.speaker_of(e.result, seg)
        if speaker is None:
            speaker = order[(order.index(now) + 1) % len(order)] if now in order else order[0]
        error = self.reviews.move_segment(e.result, seg, speaker)
        name = self.speaker_label(speaker)
        return self._after_speaker_edit(e, error, f"{span(seg.start, seg.end)} is {name}'s")

    def _resolve(self, e: Entry, speaker: int) -> int:
        review = self.reviews.speaker_review(e.result)
        return review.resolve(speaker) if review is not None else speaker

    def merge_speakers(self, source: int, into: int) -> bool:
        """Speaker ``source`` is ``into``: their segments, from now on."""
        e = self._speaker_edit("merge speakers")
        if e is None:
            return False
        names = self.speaker_label(source), self.speaker_label(into)
        error = self.reviews.merge_speakers(e.result, source, into)
        return self._after_speaker_edit(e, error, f"{names[0]} merged into {names[1]}")

    def rename_speaker(self, index: int, name: str) -> bool:
        """Call speaker ``index`` ``name`` ("Patient", "Clinician"; "" for S1, S2, …)."""
        e = self._speaker_edit("name them")
        if e is None:
            return False
        from ser_engine.review import named_label  # not at start-up: it brings in the labelling path

        before = self.speaker_label(index)
        if named_label(index, name) == before:  # OK on the dialog as it opened
            self.events.message.emit(f"{before} keeps the name (nothing changed)", 5000)
            return False
        error = self.reviews.rename_speaker(e.result, index, name)
        return self._after_speaker_edit(e, error, f"{before} is now {self.speaker_label(index)}")

    def set_patient(self, index: int | None) -> bool:
        """Speaker ``index`` is the patient: shown first, their answer in the headline."""
        e = self._speaker_edit("choose the patient")
        if e is None:
            return False
        error = self.reviews.set_patient(e.result, index)
        if not error:
            self._scope = self._default_scope()
        if index is None:
            done = "Nobody is the patient"
        else:
            name, number = self.speaker_label(index), speaker_name(index)
            done = f"{name if name == number else f'{name} ({number})'} is the patient"
        return self._after_speaker_edit(e, error, done)

    def undo(self) -> bool:
        """Take back the last edit of the clinician's, of any recording."""
        return self._undo_or_redo(self.reviews.undo, "Undo", "Undone")

    def redo(self) -> bool:
        """Put back the last edit undone."""
        return self._undo_or_redo(self.reviews.redo, "Redo", "Redone")

    def _undo_or_redo(self, step: Any, word: str, done: str) -> bool:
        patient_before = self._default_scope()
        got = step()
        if got is None:
            self.events.message.emit(f"Nothing to {word.lower()}", 3000)
            return False
        path, what, error = got
        if error:
            self.events.message.emit(f"{word} not saved: {error}", 10000)
            return False
        if path == self._selected and (self._scope not in self.speakers_of()
                                       or (self._scope == patient_before and self._default_scope() != patient_before)):
            self._scope = self._default_scope()  # the speaker shown went, or was shown as the patient
        self.events.message.emit(f"{done}: {what}" if what else done, 4000)
        self._review_changed(path)
        self.events.scope.emit()
        return True

    # -- a neutral reference ------------------------------------------------------------------------------
    def set_stretch(self, start: float | None, end: float | None = None) -> None:
        """Mark ``[start, end]`` seconds of the selected recording (None: no stretch)."""
        if start is None or end is None or not self._selected:
            stretch = None
        else:
            a, b = sorted((float(start), float(end)))
            total = self.selected_duration()
            a, b = max(a, 0.0), min(b, total) if total else b
            stretch = (a, b) if b - a > 0.05 else None
        if stretch != self._stretch:
            self._stretch = stretch
            self.events.stretch.emit()
        if stretch is not None and self._segment >= 0:  # one target at a time
            self._segment = -1
            self.events.segment.emit(-1)

    def mark_reference(self, *, whole: bool) -> bool:
        """The selected recording (``whole``), or its marked stretch (else its selected
        segment), is this speaker's neutral reference: the worker is asked to build the
        baseline (``check_reference``); :meth:`reference_checked` answers."""
        e = self.selected_entry()
        if e is None or e.status == ERROR:
            self.events.message.emit("Select a recording to use as the neutral reference", 5000)
            return False
        span = None
        if not whole:
            seg = self.selected_segment()
            span = self._stretch or ((seg.start, seg.end) if seg is not None else None)
            if span is None:
                self.events.message.emit("Mark a stretch first: Shift+drag in the timeline, or click a segment", 6000)
                return False
        ref = Reference(e.path, None if span is None else (round(span[0], 3), round(span[1], 3)),
                        str(Path(e.path).parent))
        self._checking, self._reference_problem = ref, ""
        self.events.reference.emit()
        self.events.message.emit(f"Reading the reference {ref.describe()}…", 0)
        self.events.check_reference.emit(ref)
        return True

    def reference_checked(self, ref: Reference, error: str) -> bool:
        """The worker built ``ref``'s baseline ("" ) or refused it (``error``: the engine's one
        line). Used: every recording under its folder is analysed again with it. Refused:
        nothing changes, and the reason stays in the panel."""
        if ref != self._checking:
            return False
        self._checking = None
        if error:
            self._reference_problem = error
            self.events.reference.emit()
            self.events.message.emit("Neutral reference not used: too little speech or unreadable (the panel says "
                                     "why); nothing was analysed again", 15000)
            return False
        self._references[ref.folder] = ref
        paths = [p for p in self.paths_with_status(DONE, CANCELLED, ERROR) if self.reference_for(p) == ref]
        for p in paths:
            self._set_status(p, QUEUED)
        self.events.reference.emit()
        where = Path(ref.folder).name or ref.folder
        self.events.message.emit(f"Neutral reference {ref.describe()}: analysing the "
                                 f"{_plural(len(paths), 'recording')} under {where} again with it…", 6000)
        self.dispatch()
        return True

    def clear_reference(self, path: str | None = None) -> bool:
        """Stop using the reference that normalises ``path`` (the selected recording): its
        recordings are analysed again without it."""
        ref = self.reference_for(path or self._selected)
        if ref is None:
            self._reference_problem = ""
            self.events.reference.emit()
            return False
        del self._references[ref.folder]
        paths = [p for p in self.paths_with_status(DONE, CANCELLED, ERROR) if ref.covers(p)
                 and self.reference_for(p) is None]
        for p in paths:
            self._set_status(p, QUEUED)
        self.events.reference.emit()
        self.events.message.emit(f"Reference {ref.describe()} no longer used: analysing "
                                 f"{_plural(len(paths), 'recording')} again", 5000)
        self.dispatch()
        return True
