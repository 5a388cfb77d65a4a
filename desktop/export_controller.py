"""File ▸ Export… and File ▸ Clear cache…: what to write is gathered from the session on the GUI
thread; the writing and the deleting happen in the I/O worker
(:class:`~desktop.io_worker.IOWorker`), which answers by signals.

Exports go to the folder of the last export (remembered across restarts), or the user's
Documents folder the first time, never to the folder the recordings came from: that may be
another patient's or a shared drive. Every export writes files with a saved document's
permissions (:data:`ser_engine.atomic.SHARED`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Signal

from .dialogs import Dialogs
from .export_dialog import PER_FILE, ExportItem, ExportJob, existing_targets
from .session import DONE, Session

logger = logging.getLogger(__name__)


def default_export_folder() -> str:
    """The user's Documents folder (their home when there is none)."""
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return docs if docs and Path(docs).is_dir() else str(Path.home())


class ExportController(QObject):
    """Exports of the session's recordings and clearing the cache."""

    export_requested = Signal(object)  # an ExportJob, for the I/O worker
    clear_cache_requested = Signal()
    export_finished = Signal(str, str)  # destination, error ("" on success)
    cache_cleared = Signal(object, object)  # bytes freed, entries kept

    def __init__(self, session: Session, dialogs: Dialogs, *, is_training=lambda: False, parent=None):
        super().__init__(parent)
        self._session = session
        self._dialogs = dialogs
        self._is_training = is_training
        self._folder = default_export_folder()

    def folder(self) -> str:
        """Where the export dialog starts: the folder of the last export."""
        return self._folder

    # -- exports --------------------------------------------------------------------------------
    def ask_and_export(self) -> ExportJob | None:
        """File ▸ Export…: ask what, how and where, then export."""
        s = self._session
        if not s.paths_with_status(DONE):
            s.events.message.emit("Nothing to export yet: no file has been analysed", 5000)
            return None
        choice = self._dialogs.ask_export(self._folder, s.selected, can_selected=s.selected_result() is not None)
        if choice is None:
            return None
        fmt, dest, queue = choice
        return self.export(fmt, dest, queue=queue)

    def export(self, fmt: str, dest, *, queue: bool = False) -> ExportJob | None:
        """Export the selected recording (``queue`` False) or every file of the queue, in the
        I/O worker; ``export_finished(dest, error)`` tells how it went.

        ``fmt``: csv, json, audacity, textgrid, eaf (:mod:`ser_engine.exports`, with the
        clinician tier) or summary (one row per file, with the clinician's corrections).
        Files that would be replaced are replaced only if the user agrees.
        """
        s = self._session
        queue = queue or fmt == "summary"
        existing = existing_targets(fmt, dest, queue=queue)
        if existing and not self._dialogs.confirm(
                "Replace files?", f"{len(existing)} file{'s' * (len(existing) != 1)} will be replaced, "
                f"for example {existing[0]}.\nReplace {'them' if len(existing) != 1 else 'it'}?"):
            self._finish(str(dest), "not exported: you chose to keep the existing files")
            return None
        if queue:
            items = [self._item(e.path) for e in s.entries()]
            if not any(i.result is not None for i in items) and fmt != "summary":
                self._finish(str(dest), "no analysed file to export")
                return None
        else:
            if s.selected_result() is None:
                self._finish(str(dest), "the selected file has not been analysed")
                return None
            items = [self._item(s.selected)]
        job = ExportJob.make(fmt, dest, items, s.labels(), queue=queue)
        self._remember(Path(dest), per_file=queue and fmt in PER_FILE)
        what = "the queue" if queue else Path(s.selected).name
        s.events.message.emit(f"Exporting {what} as {fmt}…", 0)
        self.export_requested.emit(job)
        return job

    def _item(self, path: str) -> ExportItem:
        e = self._session.entry(path)
        result = e.result if e.final else None
        review = self._session.reviews.review(result) if result is not None else None
        return ExportItem(e.path, e.status, e.duration, result, review, e.error)

    def _remember(self, dest: Path, *, per_file: bool) -> None:
        folder = dest if per_file else dest.parent
        self._folder = str(folder.parent if per_file else folder)

    def _on_export_finished(self, target: str, error: str) -> None:
        self._finish(target, error)

    def _finish(self, target: str, error: str) -> None:
        if error:
            self._session.events.message.emit(f"Export failed: {error}", 10000)
            if not error.startswith("not exported"):
                self._dialogs.warn("Export failed", f"The results could not be saved:\n{error}")
        else:
            self._session.events.message.emit(f"Results saved to {target}", 8000)
        self.export_finished.emit(target, error)

    # -- the cache ------------------------------------------------------------------------------
    def ask_and_clear_cache(self) -> bool:
        """File ▸ Clear cache…: say how big it is, ask, clear it in the I/O worker."""
        from ser_engine.housekeeping import cache_size, format_size
        from ser_engine.paths import user_cache_dir

        messages = self._session.events.message
        if self._is_training():
            messages.emit("The cache is in use while a model is being trained; clear it afterwards", 8000)
            return False
        size = cache_size()
        if size == 0:
            messages.emit("The cache is empty", 5000)
            self._dialogs.inform("Clear cache", f"The cache is empty.\n\n{user_cache_dir()}")
            return False
        text = (f"The cache holds {format_size(size)} in\n{user_cache_dir()}\n\nIt keeps only what SER Studio can "
                "compute again (features of training recordings, library caches); your models, reviews, settings "
                "and recordings are not touched. The next training run extracts features again.\n\n"
                "Clear the cache?")
        if not self._dialogs.confirm("Clear cache", text):
            return False
        messages.emit("Clearing the cache…", 0)
        self.clear_cache_requested.emit()
        return True

    def _on_cache_cleared(self, freed, failed) -> None:
        from ser_engine.housekeeping import format_size

        text = f"Cache cleared: {format_size(freed)} freed"
        if failed:
            text += f"; {len(failed)} item{'s' * (len(failed) != 1)} could not be removed ({failed[0]})"
        self._session.events.message.emit(text, 10000)
        self._dialogs.inform("Clear cache", text)
        self.cache_cleared.emit(freed, failed)

    # -- settings -------------------------------------------------------------------------------
    def save_state(self, settings) -> None:
        settings.setValue("export/folder", self._folder)

    def restore_state(self, settings) -> None:
        folder = settings.value("export/folder", "")
        if folder and Path(str(folder)).is_dir():
            self._folder = str(folder)
