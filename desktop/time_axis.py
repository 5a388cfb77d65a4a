"""The time axis under the timeline: clock times (``1:47``, ``0:03.5``, ``1:00:00``), never SI
prefixes (pyqtgraph's own axis labelled an hour-long session "Time (ks)")."""

import pyqtgraph as pg

from .timefmt import clock


class TimeAxis(pg.AxisItem):
    """A bottom axis in seconds that writes its ticks as clock times."""

    def __init__(self, orientation="bottom", **kwargs):
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)
        self.setLabel("Time")

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph's name)
        tenths = spacing < 1.0
        return [clock(v * scale, tenths=tenths) for v in values]
