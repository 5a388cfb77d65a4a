"""The clinician tier of the recordings in the window: loaded when a result arrives, changed by
the clinician's edits (labels of segments and of stretches, splits, merges, boundaries moved,
notes, the reviewed state, imported annotations, speaker corrections), saved at once, undone
and redone one step at a time.

Reviews live where :mod:`ser_engine.review` keeps them (the user data folder, keyed by the
sha256 of the audio's bytes; the audio is never written). A save is a few hundred bytes,
written atomically and synchronously on the GUI thread: a correction must survive even a
quit the next instant, and queuing it behind a long overview on the I/O thread would not
guarantee that.

Undo (Edit ▸ Undo, Ctrl+Z) takes back the last edit of any recording by restoring that review
as it was before and saving it; Redo (Ctrl+Shift+Z) puts it back. Two stacks of whole reviews,
enough for these small files; a new edit empties the redo stack.
"""

import copy
import dataclasses
import logging

from ser_engine.results import NO_SPEECH, speaker_name

logger = logging.getLogger(__name__)

#: Corrections that can be undone, newest last.
UNDO_DEPTH = 100


class ReviewController:
    """One :class:`~ser_engine.review.Review` per recording (by content hash)."""

    def __init__(self):
        self._by_path = {}   # path -> Review, or a str: why its review cannot be used
        self._sha = {}       # path -> sha256
        self._undo = []      # (path, the Review object, a copy of it before, what was done)
        self._redo = []      # (path, the Review object, a copy of it after, what was undone)
        self._memo = {}      # (path, id of the result, key) -> what a view computed from the review

    def forget(self, path=None):
        """Drop cached reviews (all, or one path's): they are read again when needed. All of
        them: the undo steps go too (the queue was cleared)."""
        self._drop_memo(path)
        if path is None:
            self._by_path.clear()
            self._sha.clear()
            self._undo.clear()
            self._redo.clear()
        else:
            self._by_path.pop(path, None)
            self._sha.pop(path, None)

    def review(self, result):
        """The Review of an analysed recording (loaded once), or None when its review file
        cannot be read (:meth:`problem` says why; the file is then never overwritten)."""
        from ser_engine.errors import SerError
        from ser_engine.review import ReviewError, load_review

        path = result.path
        got = self._by_path.get(path)
        if got is not None:
            return got if not isinstance(got, str) else None
        try:
            sha = getattr(result, "sha256", None) or self._sha.get(path)
            if sha is None:
                from ser_engine.segments import file_sha256

                sha = file_sha256(path)
            self._sha[path] = sha
            review = load_review(path, sha256=sha)
        except (ReviewError, SerError, OSError) as exc:
            self._by_path[path] = str(exc)
            logger.warning("review of %s unavailable: %s", path, exc)
            return None
        review.audio_name = review.audio_name or _name(path)
        if review.model_id is None:
            review.model_id, review.model_version = result.model_id, result.model_version
        self._by_path[path] = review
        return review

    def problem(self, path):
        got = self._by_path.get(path)
        return got if isinstance(got, str) else ""

    def intervals(self, result):
        """``[(start, end, label), ...]`` of the clinician tier (empty without a review)."""
        review = self.review(result)
        return [(iv.start, iv.end, iv.label) for iv in review.intervals] if review else []

    def label_for(self, result, segment):
        review = self.review(result)
        return review.label_for(segment.start, segment.end) if review else None

    def set_label(self, result, segment, label):
        """Give ``segment`` the clinician label ``label`` (None: clear it) and save.

        Returns
        -------
        str : "" on success, else the reason (one line) nothing was saved.
        """
        def change(review):
            if label is None:
                review.clear(segment.start, segment.end)
            else:
                review.set_label(segment.start, segment.end, label)

        return self._edit(result, change, f"your label {label}" if label else "clearing your label")

    def set_range_label(self, result, start, end, label):
        """Label the stretch ``[start, end]`` (any bounds; None clears it). Returns "" or why not."""
        def change(review):
            if label is None:
                review.clear(start, end)
            else:
                review.set_label(start, end, label)

        return self._edit(result, change, f"your label {label} of a stretch" if label else "clearing a stretch")

    def interval_at(self, result, t):
        """``(start, end, label)`` of the clinician's label at ``t`` (None: none)."""
        review = self.review(result)
        iv = review.interval_at(t) if review is not None else None
        return None if iv is None else (iv.start, iv.end, iv.label)

    def boundaries(self, result):
        review = self.review(result)
        return review.boundaries() if review is not None else []

    def split(self, result, t):
        """Split the clinician's label at ``t``. Returns "" or why not."""
        return self._edit(result, lambda r: r.split(t), "splitting your label")

    def merge_next(self, result, t):
        """Merge the clinician's label at ``t`` with the next. Returns "" or why not."""
        return self._edit(result, lambda r: r.merge_next(t), "merging your labels")

    def move_boundary(self, result, t, new_t):
        """Move the boundary at ``t`` of the clinician tier to ``new_t`` (kept inside the
        recording). Returns "" or why not."""
        def change(review):
            review.move_boundary(t, min(max(new_t, 0.0), float(result.duration)))

        return self._edit(result, change, "moving a boundary of your labels")

    # -- notes, the reviewed state, imports -----------------------------------------------------
    def note(self, result):
        """The note on the whole recording ("" when none or unavailable)."""
        review = self.review(result)
        return review.note if review is not None else ""

    def note_for(self, result, start, end):
        review = self.review(result)
        return review.note_for(start, end) if review is not None else ""

    def set_note(self, result, text):
        return self._edit(result, lambda r: r.set_note(text), "your note on the recording")

    def set_segment_note(self, result, start, end, text):
        return self._edit(result, lambda r: r.set_segment_note(start, end, text), "your note")

    def is_reviewed(self, result):
        review = self.review(result)
        return bool(review is not None and review.reviewed)

    def set_reviewed(self, result, reviewed):
        what = "marking it reviewed" if reviewed else "marking it not reviewed"
        return self._edit(result, lambda r: r.set_reviewed(reviewed), what)

    def import_tier(self, result, imported, *, replace):
        """Make an :class:`~ser_engine.annotations.ImportedTier` the clinician tier (laid over
        it when ``replace`` is False). Returns "" or why not; one undo step."""
        from ser_engine.annotations import apply_to_review

        return self._edit(result, lambda r: apply_to_review(r, imported, replace=replace),
                          f"importing {imported.source.name}")

    def mark(self, result):
        """What the queue says of a recording's review (:class:`ReviewMark`), or None when its
        review cannot be read."""
        review = self.review(result)
        if review is None:
            return None
        corrections = len(review.intervals) + len(review.speaker_moves) + len(review.speaker_merges)
        return ReviewMark(review.reviewed, corrections, bool(review.note or review.segment_notes))

    # -- who speaks ----------------------------------------------------------------------------
    def speaker_of(self, result, segment):
        """The speaker of ``segment`` as the clinician corrected it (None: no speaker)."""
        review = self.review(result)
        return review.speaker_of(segment) if review is not None else getattr(segment, "speaker", None)

    def speaker_label(self, result, index):
        """``"Patient"`` or ``"S2"``: the name of speaker ``index`` of ``result``."""
        review = self.review(result)
        return review.speaker_label(index) if review is not None else speaker_name(index)

    def speakers(self, result):
        """The speakers of ``result`` after the clinician's corrections, the patient first."""
        review = self.review(result)
        if review is None:
            return list(dict.fromkeys(s.speaker for s in result.segments if s.speaker is not None))
        return review.speakers_in(result.segments)

    def patient(self, result):
        review = self.review(result)
        return review.patient if review is not None else None

    def speaker_review(self, result):
        """The review (for its speaker methods), or None when it cannot be used."""
        return self.review(result)

    def move_segment(self, result, segment, speaker):
        """Give ``segment`` to ``speaker`` (saved, undoable). Returns "" or why not."""
        return self._edit(result, lambda r: r.move_segment(segment.start, segment.end, speaker,
                                                           found=segment.speaker),
                          f"giving the segment to {self.speaker_label(result, speaker)}")

    def merge_speakers(self, result, source, into):
        """Speaker ``source`` becomes ``into`` (saved, undoable). Returns "" or why not."""
        what = f"merging {self.speaker_label(result, source)} into {self.speaker_label(result, into)}"
        return self._edit(result, lambda r: r.merge_speakers(source, into), what)

    def rename_speaker(self, result, index, name):
        """Call speaker ``index`` ``name`` ("" : back to S1, …). Returns "" or why not."""
        return self._edit(result, lambda r: r.rename_speaker(index, name),
                          f"naming {self.speaker_label(result, index)}")

    def set_patient(self, result, index):
        """Speaker ``index`` is the patient (shown first). Returns "" or why not."""
        return self._edit(result, lambda r: r.set_patient(index), "choosing the patient")

    def speaker_count(self, result):
        """The number of speakers chosen for this recording before (None: never chosen, or its
        review cannot be read)."""
        review = self.review(result)
        return review.speaker_count if review is not None else None

    def set_speaker_count(self, result, count):
        """Remember the number of speakers chosen for this recording (not an undo step)."""
        return self._edit(result, lambda r: setattr(r, "speaker_count", count), "", undoable=False)

    # -- changes and undo ------------------------------------------------------------------------
    def _edit(self, result, change, what, *, undoable=True):
        from ser_engine.review import ReviewError, save_review

        review = self.review(result)
        if review is None:
            return self.problem(result.path) or "no review for this recording"
        before = copy.deepcopy(review)
        try:
            change(review)
            save_review(review)
        except (ValueError, ReviewError) as exc:
            _restore(review, before)
            return str(exc)
        self._drop_memo(result.path)
        if undoable:
            self._undo.append((result.path, review, before, what))
            del self._undo[:-UNDO_DEPTH]
            self._redo.clear()
        return ""

    def memo(self, result, key, compute):
        """``compute()`` for ``result``, kept until its review changes or it is analysed again
        (the panel asks for each speaker's shares several times per redraw; an hour's session
        has thousands of segments)."""
        slot = (result.path, id(result), key)
        if slot not in self._memo:
            self._memo[slot] = compute()
        return self._memo[slot]

    def _drop_memo(self, path):
        self._memo = {} if path is None else {k: v for k, v in self._memo.items() if k[0] != path}

    def can_undo(self):
        return bool(self._undo)

    def undo_text(self):
        """What Undo would take back ("" when nothing)."""
        return self._undo[-1][3] if self._undo else ""

    def can_redo(self):
        return bool(self._redo)

    def redo_text(self):
        """What Redo would put back ("" when nothing)."""
        return self._redo[-1][3] if self._redo else ""

    def undo(self):
        """Take back the last edit and save. Returns ``(path, what, error)``, or None when
        there is nothing to undo."""
        return self._step(self._undo, self._redo)

    def redo(self):
        """Put back the last edit undone and save. Returns ``(path, what, error)``, or None
        when there is nothing to redo."""
        return self._step(self._redo, self._undo)

    def _step(self, source, other):
        """Restore the review of the last step of ``source`` and save it; the state it had
        goes onto ``other`` (undo onto redo, and back)."""
        from ser_engine.review import ReviewError, save_review

        if not source:
            return None
        path, review, state, what = source.pop()
        current = self._by_path.get(path)
        target = current if current is not None and not isinstance(current, str) else review
        now = copy.deepcopy(target)
        self._drop_memo(path)
        _restore(target, state)
        try:
            save_review(target)
        except ReviewError as exc:
            _restore(target, now)
            source.append((path, review, state, what))
            return path, what, str(exc)
        other.append((path, review, now, what))
        return path, what, ""

    def corrected_summary(self, result, labels):
        """The Summary of the corrected tier, or None when nothing was corrected."""
        review = self.review(result)
        if review is None or not review.intervals:
            return None
        return review.summary(result.segments, tuple(labels), duration=result.duration)


@dataclasses.dataclass(frozen=True)
class ReviewMark:
    """A recording's review as the queue shows it: reviewed, how many corrections (labels,
    segments given to another speaker, merges), whether it holds notes."""

    reviewed: bool
    corrections: int
    notes: bool

    def text(self):
        """``"✓ reviewed · 3 corrected · note"`` ("" for an untouched review)."""
        parts = ["✓ reviewed"] if self.reviewed else []
        parts += [f"{self.corrections} corrected"] if self.corrections else []
        parts += ["note"] if self.notes else []
        return " · ".join(parts)


def _restore(review, before):
    """Put ``review`` back as ``before`` was (its place and dates stay)."""
    for field in dataclasses.fields(review):
        if field.name not in ("path", "created", "updated"):
            setattr(review, field.name, copy.deepcopy(getattr(before, field.name)))


def _name(path):
    from pathlib import Path

    return Path(path).name


__all__ = ["NO_SPEECH", "ReviewController", "ReviewMark"]
