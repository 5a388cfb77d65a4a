"""The clinician tier of the recordings in the window: loaded when a result arrives, changed by
the number keys, saved at once.

Reviews live where :mod:`ser_engine.review` keeps them (the user data folder, keyed by the
sha256 of the audio's bytes; the audio is never written). A save is a few hundred bytes,
written atomically and synchronously on the GUI thread: a correction must survive even a
quit the next instant, and queuing it behind a long overview on the I/O thread would not
guarantee that.
"""

import logging

from ser_engine.results import NO_SPEECH

logger = logging.getLogger(__name__)


class ReviewController:
    """One :class:`~ser_engine.review.Review` per recording (by content hash)."""

    def __init__(self):
        self._by_path = {}   # path -> Review, or a str: why its review cannot be used
        self._sha = {}       # path -> sha256

    def forget(self, path=None):
        """Drop cached reviews (all, or one path's): they are read again when needed."""
        if path is None:
            self._by_path.clear()
            self._sha.clear()
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
        from ser_engine.review import ReviewError, save_review

        review = self.review(result)
        if review is None:
            return self.problem(result.path) or "no review for this recording"
        before = list(review.intervals)
        if label is None:
            review.clear(segment.start, segment.end)
        else:
            review.set_label(segment.start, segment.end, label)
        try:
            save_review(review)
        except ReviewError as exc:
            review.intervals = before
            return str(exc)
        return ""

    def corrected_summary(self, result, labels):
        """The Summary of the corrected tier, or None when nothing was corrected."""
        review = self.review(result)
        if review is None or not review.intervals:
            return None
        return review.summary(result.segments, tuple(labels), duration=result.duration)


def _name(path):
    from pathlib import Path

    return Path(path).name


__all__ = ["NO_SPEECH", "ReviewController"]
