"""Which recordings the queue shows: a filter over the session's entries, without Qt.

The queue's filter bar (:class:`~desktop.queue_filter_bar.QueueFilterBar`) sets a
:class:`QueueView` on the session; the table's proxy asks :meth:`QueueView.accepts` of each row.
A recording passes when it matches every part that is set: what to show (all, the uncertain
ones, those not reviewed, those reviewed, those the clinician corrected), a label (the
recording's answer) and a ceiling on the answer's number (a clip's confidence, a session's
share of speech). A filter on the result hides the recordings that have none yet.
"""

from __future__ import annotations

import dataclasses
from typing import Any

SHOW_ALL, SHOW_UNCERTAIN, SHOW_NOT_REVIEWED, SHOW_REVIEWED, SHOW_CORRECTED = (
    "all", "uncertain", "not reviewed", "reviewed", "corrected")
#: What the "Show" control offers, in its order.
SHOW_CHOICES = (SHOW_ALL, SHOW_UNCERTAIN, SHOW_NOT_REVIEWED, SHOW_REVIEWED, SHOW_CORRECTED)


@dataclasses.dataclass(frozen=True)
class QueueView:
    """``show`` one of :data:`SHOW_CHOICES`; ``label`` an emotion ("" for any); ``below`` a
    number in (0, 1]: only answers under it (None for any)."""

    show: str = SHOW_ALL
    label: str = ""
    below: float | None = None

    def __post_init__(self) -> None:
        if self.show not in SHOW_CHOICES:
            raise ValueError(f"not a queue filter: {self.show!r}")

    def is_filtered(self) -> bool:
        return self != QueueView()

    def accepts(self, entry: Any) -> bool:
        """Whether the queue shows ``entry`` (a :class:`~desktop.session.Entry`)."""
        if not self.is_filtered():
            return True
        h = entry.answer if entry.result is not None else None
        mark = entry.mark
        if self.label and (h is None or h.label != self.label):
            return False
        if self.below is not None and (h is None or h.value is None or h.value >= self.below):
            return False
        if self.show == SHOW_UNCERTAIN:
            return h is not None and h.uncertain
        if self.show == SHOW_NOT_REVIEWED:
            return entry.result is not None and not (mark is not None and mark.reviewed)
        if self.show == SHOW_REVIEWED:
            return mark is not None and mark.reviewed
        if self.show == SHOW_CORRECTED:
            return mark is not None and mark.corrections > 0
        return True

    def describe(self) -> str:
        """``"uncertain · sad · below 60%"`` ("" when nothing is filtered)."""
        parts = [self.show] if self.show != SHOW_ALL else []
        parts += [self.label] if self.label else []
        parts += [f"below {self.below:.0%}"] if self.below is not None else []
        return " · ".join(parts)
