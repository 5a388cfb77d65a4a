"""The app freezes its start-up objects once the first model has settled, so that the garbage
collector's full collections stop walking them (they held the GUI thread 70–85 ms each)."""

import gc
import time

import pytest

from tests.conftest import requires_data

pytestmark = [requires_data, pytest.mark.gui]


def _collect_ms():
    t = time.thread_time()
    gc.collect()
    return (time.thread_time() - t) * 1000


def test_startup_objects_are_frozen_once_the_model_has_settled(window, qtbot):
    from desktop.startup_objects import freeze_after_startup

    from .test_main_window import wait_ready

    session = window.session
    callbacks = len(session.events.model._callbacks)
    try:
        freeze_after_startup(session)
        wait_ready(qtbot, window)
        frozen = gc.get_freeze_count()
        assert frozen > 10000  # the window, Qt's wrappers, the model: and everything the suite made before
        assert len(session.events.model._callbacks) == callbacks  # once: it let go of the session
        session.events.model.emit()  # another model later freezes nothing more (freed ones leave)
        assert gc.get_freeze_count() <= frozen
        garbage = [[i] for i in range(1000)]
        for a, b in zip(garbage, garbage[1:] + garbage[:1], strict=True):
            a.append(b)  # a ring of cycles made after start-up is still collected
        del garbage, a, b
        collected = gc.collect()
        assert collected >= 1000
        ms = min(_collect_ms() for _ in range(3))
        print(f"\n{frozen} objects frozen; a full collection then took {ms:.2f} ms")
        assert ms < 20
    finally:
        gc.unfreeze()
