"""The batch's progress bar: shown and hidden at once, its value redrawn at most every 50 ms
(a QProgressBar repaints synchronously on each new value, and the worker answers in bursts)."""

import pytest

from desktop.batch_progress_bar import REDRAW_MS, BatchProgressBar
from desktop.session import BatchProgress

pytestmark = pytest.mark.gui


class Painted(BatchProgressBar):
    def __init__(self, progress):
        super().__init__(progress)
        self.values = []

    def setValue(self, value):  # noqa: N802 (Qt's name)
        self.values.append(value)
        super().setValue(value)


def test_a_burst_of_progress_is_drawn_once_and_the_end_at_once(qtbot):
    now = [BatchProgress(0, 30000, "0 of 30")]
    bar = Painted(lambda: now[0])
    qtbot.addWidget(bar)
    bar.follow()
    assert not bar.isHidden()
    assert bar.values == [0] and bar.format() == "0 of 30"
    for i in range(1, 121):  # 120 blocks handled in one pass of the event loop
        now[0] = BatchProgress(i * 250, 30000, f"{i // 4} of 30")
        bar.follow()
    assert bar.values == [0]
    qtbot.wait(REDRAW_MS * 3)
    assert bar.values == [0, 30000] and bar.format() == "30 of 30"
    now[0] = None
    bar.follow()
    assert bar.isHidden()  # nothing pending: gone at once, not 50 ms later


def test_progress_that_ends_within_the_redraw_interval_leaves_the_bar_hidden(qtbot):
    now = [BatchProgress(0, 1000, "clip.wav: 0%")]
    bar = Painted(lambda: now[0])
    qtbot.addWidget(bar)
    bar.follow()
    now[0] = BatchProgress(500, 1000, "clip.wav: 50%")
    bar.follow()  # a redraw is due in 50 ms ...
    now[0] = None
    bar.follow()  # ... but the file is done first
    qtbot.wait(REDRAW_MS * 3)
    assert bar.isHidden() and bar.values == [0]


def test_a_dismissed_bar_stays_hidden_when_a_redraw_was_due(qtbot):
    """The window dismisses the bar when the queue settles, even with files still queued (no
    model to analyse them): a redraw due at that moment showed it again 50 ms later."""
    now = [BatchProgress(0, 3000, "0 of 3")]
    bar = Painted(lambda: now[0])
    qtbot.addWidget(bar)
    bar.follow()
    bar.follow()  # visible: a redraw is due
    bar.dismiss()
    qtbot.wait(REDRAW_MS * 3)
    assert bar.isHidden()
