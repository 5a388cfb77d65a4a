"""One way to write a time in the window: a clock, as a clinician reads a recording.

``0:03.7`` (minutes, seconds and tenths) under an hour and ``1:00:02`` beyond, in the queue,
the panel, the segment list, the transport, the time axis and the status bar alike (before,
the same instant read "1:53.3", "106.97 s", "0.11 ks" or "3602.2…" depending on where).
"""

from __future__ import annotations

import math


def clock(seconds: float, *, tenths: bool = True) -> str:
    """``m:ss.s`` under an hour (``m:ss`` without ``tenths``), ``h:mm:ss`` from an hour on."""
    seconds = max(float(seconds), 0.0)
    if not math.isfinite(seconds):
        return "–"
    if seconds >= 3600:
        whole = int(seconds)
        h, rest = divmod(whole, 3600)
        m, s = divmod(rest, 60)
        return f"{h}:{m:02d}:{s:02d}"
    if tenths:
        tenth = int(round(seconds * 10))
        m, s10 = divmod(tenth, 600)
        if m >= 60:
            return clock(seconds, tenths=False)
        return f"{m}:{s10 // 10:02d}.{s10 % 10}"
    m, s = divmod(int(round(seconds)), 60)
    if m >= 60:
        return f"{m // 60}:{m % 60:02d}:{s:02d}"
    return f"{m}:{s:02d}"


def span(start: float, end: float) -> str:
    """``0:01.2–0:03.4``: a stretch of a recording."""
    return f"{clock(start)}–{clock(end)}"
