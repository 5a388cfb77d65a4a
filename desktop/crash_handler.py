"""One handler for unexpected exceptions: the traceback goes to the user log folder and a
short, non-modal dialog names that folder. Works from any thread (the dialog is shown by
the GUI thread through a queued signal)."""

import datetime
import logging
import os
import sys
import threading
import traceback
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

logger = logging.getLogger(__name__)


class CrashHandler(QObject):
    """Install with :meth:`install`; restore the previous hooks with :meth:`uninstall`."""

    reported = Signal(str, str)  # log file, one-line summary (queued to the GUI thread)

    def __init__(self, parent=None, *, show_dialog=True):
        super().__init__(parent)
        # Scripted runs (tests, the screenshot hook) pass False: a dialog would wait for nobody.
        self._show_dialog = show_dialog
        self._previous: Any = None
        self._previous_thread_hook: Any = None
        self._dialog = None
        self.last_log = None
        self.reported.connect(self._on_reported, Qt.ConnectionType.QueuedConnection)

    def install(self):
        self._previous = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        sys.excepthook = self.handle
        threading.excepthook = lambda args: self.handle(args.exc_type, args.exc_value, args.exc_traceback)

    def uninstall(self):
        if self._previous is not None:
            sys.excepthook = self._previous
            threading.excepthook = self._previous_thread_hook
            self._previous = None

    def handle(self, exc_type, exc_value, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        text = "".join(traceback.format_exception(exc_type, exc_value, tb))
        logger.error("unexpected error:\n%s", text)
        path = self._write_log(text)
        self.last_log = path
        summary = f"{exc_type.__name__}: {exc_value}".splitlines()[0][:300]
        self.reported.emit(str(path) if path else "", summary)

    def _write_log(self, text):
        from ser_engine.paths import user_log_dir

        try:
            folder = user_log_dir()
            folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            path = folder / f"crash-{stamp}.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            print(text, file=sys.stderr)
            return None

    def _on_reported(self, log_path, summary):
        if not self._show_dialog:
            return
        folder = os.path.dirname(log_path) if log_path else "(the log could not be written)"
        box = QMessageBox(QMessageBox.Icon.Warning, "SER Studio: unexpected error",
                          "Something went wrong inside SER Studio. Your recordings are not affected; "
                          "the current action may be incomplete.",
                          QMessageBox.StandardButton.Ok, QApplication.activeWindow())
        box.setInformativeText(f"{summary}\n\nThe details were saved in:\n{folder}")
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        self._dialog = box
