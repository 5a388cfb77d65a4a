"""The objects of start-up out of the garbage collector's way.

The window, Qt's wrappers, numpy, LiteRT and the loaded model leave ~95,000 objects that live
as long as the app. Python's full collection walks all of them: 70–85 ms on this machine, on
whichever thread allocated, holding the GIL, so the window stood still for that long whenever
one came due. Once the first model has settled, they are collected once and then
frozen (:func:`gc.freeze`): later collections walk only the objects made since (a full one
took 0.006 ms right after). Objects freed by reference counting are freed as before; only a
cycle among the frozen objects would never be collected, which for start-up objects is no loss.
"""

from __future__ import annotations

import gc
from typing import Any


def freeze_after_startup(session: Any) -> None:
    """Collect and freeze once ``session``'s first model has loaded or failed (now, if it has)."""

    def on_model() -> None:
        if session.model_settled():
            session.events.model.disconnect(on_model)
            gc.collect()
            gc.freeze()

    session.events.model.connect(on_model)
    on_model()
