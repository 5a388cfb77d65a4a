"""A minimal analysis window: drop files, see one label per file.

The full analysis window (browser, waveform, spectrogram, timeline, playback) replaces
this one; the thread rules are already the final ones: the GUI thread only draws.
"""

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QThread, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QMainWindow, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from .analysis_worker import AnalysisWorker

logger = logging.getLogger(__name__)

COLUMNS = ("File", "Status", "Label", "Confidence")


WORKER_STACK_BYTES = 64 * 1024 * 1024


class MainWindow(QMainWindow):
    _analyse_requested = Signal(str)
    _load_requested = Signal()
    idle = Signal()  # the queue is empty and the model is loaded (used by --quit-when-idle)

    def __init__(self, model_path=None):
        super().__init__()
        self.setWindowTitle("SER Studio")
        self.resize(900, 520)
        self.setAcceptDrops(True)
        self._rows = {}
        self._pending = []
        self._busy = False
        self._ready = False

        central = QWidget()
        layout = QVBoxLayout(central)
        self._hint = QLabel("Drop audio files or folders here to label each recording with an emotion.")
        self._model_label = QLabel("Model: loading…")
        self._table = QTableWidget(0, len(COLUMNS))
        self._table.setHorizontalHeaderLabels(COLUMNS)
        self._table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self._table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self._table.setSelectionBehavior(QAbstractItemView.SelectRows)
        for w in (self._hint, self._model_label, self._table):
            layout.addWidget(w)
        self.setCentralWidget(central)
        self.statusBar().showMessage("Loading model…")

        self._thread = QThread(self)
        # TensorFlow traces its graphs with deep native recursion; the default thread
        # stack of a QThread is too small for it and the process segfaults.
        self._thread.setStackSize(WORKER_STACK_BYTES)
        self._worker = AnalysisWorker(model_path)
        self._worker.moveToThread(self._thread)
        self._load_requested.connect(self._worker.load_model)
        self._analyse_requested.connect(self._worker.analyse)
        self._worker.model_ready.connect(self._on_model_ready)
        self._worker.model_failed.connect(self._on_model_failed)
        self._worker.result_ready.connect(self._on_result)
        self._thread.start()
        self._load_requested.emit()

    # -- queue --------------------------------------------------------------------------
    def add_paths(self, paths):
        from ser_engine.audio import iter_audio_files

        for path in iter_audio_files(paths):
            key = str(path)
            if key in self._rows:
                continue
            row = self._table.rowCount()
            self._table.insertRow(row)
            self._table.setItem(row, 0, QTableWidgetItem(Path(key).name))
            self._table.item(row, 0).setToolTip(key)
            self._table.setItem(row, 1, QTableWidgetItem("queued"))
            self._rows[key] = row
            self._pending.append(key)
        self._next()

    def _next(self):
        if not self._ready or self._busy:
            return
        if not self._pending:
            self.statusBar().showMessage("Ready")
            self.idle.emit()
            return
        self._busy = True
        path = self._pending.pop(0)
        self._table.item(self._rows[path], 1).setText("analysing")
        self.statusBar().showMessage(f"Analysing {Path(path).name}…")
        self._analyse_requested.emit(path)

    # -- worker events ------------------------------------------------------------------
    def _on_model_ready(self, model_id, warning):
        self._ready = True
        self._model_label.setText(f"Model: {model_id}" + (f"  —  {warning}" if warning else ""))
        self._next()

    def _on_model_failed(self, reason):
        self._model_label.setText(f"Model could not be loaded: {reason}")
        self.statusBar().showMessage("No model")

    def _on_result(self, result):
        row = self._rows[result.path]
        self._busy = False
        if result.ok:
            self._table.item(row, 1).setText("done")
            self._table.setItem(row, 2, QTableWidgetItem(result.label + (" (uncertain)" if result.uncertain else "")))
            self._table.setItem(row, 3, QTableWidgetItem(f"{result.confidence:.0%}"))
        else:
            status = self._table.item(row, 1)
            status.setText("error")
            for col in range(len(COLUMNS)):
                item = self._table.item(row, col) or QTableWidgetItem("")
                self._table.setItem(row, col, item)
                item.setBackground(QColor("#f8d7da"))
                item.setToolTip(result.error)
            self._table.item(row, 2).setText(result.error)
        self._next()

    # -- drag and drop ------------------------------------------------------------------
    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        self.add_paths(paths)
        event.acceptProposedAction()

    def closeEvent(self, event):
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self):
        """Stop the worker thread. Must run before the application object goes away:
        a QThread destroyed while running aborts the process."""
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()
