"""Qt-free events for the session model (the habit of napari's ``EventEmitter``, reduced to what
the window uses): a model owns an :class:`EmitterGroup`, views ``connect`` callbacks, the model
``emit``s after each change. Callbacks run at once, in the order they were connected, on the
thread that changed the model (the GUI thread: workers answer by Qt signals first).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Emitter:
    """One kind of event and its callbacks."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Call ``callback(*args)`` on every :meth:`emit` (once, however often connected)."""
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any] | None = None) -> None:
        """Forget ``callback`` (all callbacks when None)."""
        if callback is None:
            self._callbacks.clear()
        elif callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in tuple(self._callbacks):  # a callback may disconnect itself
            callback(*args)

    def __repr__(self) -> str:
        return f"<Emitter {self.name}: {len(self._callbacks)} callbacks>"


class EmitterGroup:
    """The events of one model, as attributes: ``model.events.selection.connect(...)``."""

    def __init__(self, *names: str) -> None:
        self._names = names
        for name in names:
            setattr(self, name, Emitter(name))

    def __getattr__(self, name: str) -> Emitter:  # for mypy: the emitters are set in __init__
        raise AttributeError(name)

    def names(self) -> tuple[str, ...]:
        return self._names
