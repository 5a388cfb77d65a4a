"""The clinician tier of the recordings in the window: loaded when a result arrives, changed by
the number keys and the speaker corrections, saved at once, and undone one step at a time.

Reviews live where :mod:`ser_engine.review` keeps them (the user data folder, keyed by the
sha256 of the audio's bytes; the audio is never written). A save is a few hundred bytes,
written atomically and synchronously on the GUI thread: a correction must survive even a
quit the next instant, and queuing it behind a long overview on the I/O thread would not
guarantee that.

Undo (Edit ▸ Undo, Ctrl+Z) takes back the last correction of any recording — a label, a segment
given to another speaker, a merge, a name, the patient — by restoring that review as it was
before and saving it: a simple stack of whole reviews, enough for these small files.
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
        self._memo = {}      # (path, id of the result, key) -> what a view computed from the review

    def forget(self, path=None):
        """Drop cached reviews (all, or one path's): they are read again when needed. All of
        them: the undo steps go too (the queue was cleared)."""
        self._drop_memo(path)
        if path is None:
            self._by_path.clear()
            self._sha.clear()
            self._undo.clear()
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

    def undo(self):
        """Take back the last correction and save. Returns ``(path, what, error)``, or None
        when there is nothing to undo."""
        from ser_engine.review import ReviewError, save_review

        if not self._undo:
            return None
        path, review, before, what = self._undo.pop()
        current = self._by_path.get(path)
        target = current if current is not None and not isinstance(current, str) else review
        after = copy.deepcopy(target)
        self._drop_memo(path)
        _restore(target, before)
        try:
            save_review(target)
        except ReviewError as exc:
            _restore(target, after)
            self._undo.append((path, review, before, what))
            return path, what, str(exc)
        return path, what, ""

    def corrected_summary(self, result, labels):
        """The Summary of the corrected tier, or None when nothing was corrected."""
        review = self.review(result)
        if review is None or not review.intervals:
            return None
        return review.summary(result.segments, tuple(labels), duration=result.duration)


def _restore(review, before):
    """Put ``review`` back as ``before`` was (its place and dates stay)."""
    for field in dataclasses.fields(review):
        if field.name not in ("path", "created", "updated"):
            setattr(review, field.name, copy.deepcopy(getattr(before, field.name)))


def _name(path):
    from pathlib import Path

    return Path(path).name


__all__ = ["NO_SPEECH", "ReviewController"]
