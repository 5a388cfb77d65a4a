"""The waveform and spectrogram of the selected recording: asked of the I/O worker when the
selection changes (a few recent ones are kept), and for a long recording the visible stretch
at full resolution when the user zooms in.

Views wait until the model has settled: the I/O worker imports the engine's display code while
the analysis worker imports the model's, and the two would hold each other up (the import lock
and the GIL) at start-up.
"""

from __future__ import annotations

import collections
import logging

from PySide6.QtCore import QObject, Signal

from .session import Session
from .signal_view import SignalView

logger = logging.getLogger(__name__)

#: Views of this many recently selected recordings are kept (a few MB each).
VIEW_CACHE_SIZE = 6
EMPTY_HINT = "Drop audio files or folders anywhere in this window, or use File ▸ Open"


class ViewController(QObject):
    """Asks the I/O worker for what the signal view draws, and draws it."""

    view_requested = Signal(str)                 # path
    slice_requested = Signal(str, float, float)  # path, t0, t1
    view_shown = Signal(str)     # the selected file's waveform/spectrogram (or why not) is drawn
    slice_shown = Signal(str, float, float)      # path, t0, t1: a long file's visible stretch is drawn

    def __init__(self, session: Session, view: SignalView, io_worker, parent=None):
        super().__init__(parent)
        self._session = session
        self._view = view
        self._io = io_worker  # its want()/want_slice() are thread-safe: older requests are skipped
        self._cache: collections.OrderedDict = collections.OrderedDict()
        self._shown = ""
        view.slice_requested.connect(self._on_slice_requested)
        session.events.selected.connect(self._on_selected)
        session.events.model.connect(self._on_model_changed)
        session.events.cleared.connect(self._on_cleared)
        view.show_empty(EMPTY_HINT)

    def shown_path(self) -> str:
        """The recording whose view (or the reason it has none) is drawn."""
        return self._shown

    def forget(self) -> None:
        """Drop the kept views (they are read again when selected)."""
        self._cache.clear()

    def _on_selected(self, path: str) -> None:
        if not path:
            self._shown = ""
            self._view.show_empty(EMPTY_HINT)
            return
        if path in self._cache:
            self._cache.move_to_end(path)
            self._draw(path, self._cache[path])
            return
        self._shown = ""
        self._request(path)

    def _on_cleared(self) -> None:
        self._cache.clear()

    def _on_model_changed(self) -> None:
        path = self._session.selected
        if path and self._shown != path and self._session.model_settled():
            self._request(path)

    def _request(self, path: str) -> None:
        if not self._session.model_settled():
            self._view.show_empty("Loading… (the waveform appears once the model is loaded)")
            return
        self._view.show_empty("Loading…")
        self._io.want(path)
        self.view_requested.emit(path)

    def _draw(self, path: str, data) -> None:
        self._view.set_view_data(data)
        self._shown = path
        self.view_shown.emit(path)

    def _on_view_ready(self, path: str, data) -> None:
        self._cache[path] = data
        while len(self._cache) > VIEW_CACHE_SIZE:
            self._cache.popitem(last=False)
        if path == self._session.selected:
            self._draw(path, data)

    def _on_view_failed(self, path: str, reason: str) -> None:
        if path == self._session.selected:
            self._view.show_empty(f"Cannot display this file: {reason}")
            self._shown = path
            self.view_shown.emit(path)

    def _on_slice_requested(self, t0: float, t1: float) -> None:
        path = self._session.selected
        if not path or self._shown != path:
            return
        self._io.want_slice((path, t0, t1))
        self.slice_requested.emit(path, t0, t1)

    def _on_slice_ready(self, path: str, data) -> None:
        if path == self._session.selected and self._shown == path:
            self._view.set_slice(data)
            self.slice_shown.emit(path, data.t0, data.t1)

    def connect_worker(self, io_worker) -> None:
        """Wire the I/O worker's answers (queued: it lives in its own thread)."""
        self.view_requested.connect(io_worker.load_view)
        self.slice_requested.connect(io_worker.load_slice)
        io_worker.view_ready.connect(self._on_view_ready)
        io_worker.view_failed.connect(self._on_view_failed)
        io_worker.slice_ready.connect(self._on_slice_ready)
