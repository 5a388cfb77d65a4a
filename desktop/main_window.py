"""The analysis window: file browser and queue on the left, the selected recording's signal,
spectrogram and emotion strip in the centre, its probabilities on the right.

Thread rules (docs/DESIGN.md): this window only draws. The model lives in
:class:`~desktop.analysis_worker.AnalysisWorker`, audio for display, durations and exports in
:class:`~desktop.io_worker.IOWorker`, each in its own QThread; they answer by signals.
"""

import collections
import logging
import os
import platform
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QSize, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QMainWindow, QMessageBox, QProgressBar,
                               QSizePolicy, QSplitter, QStyle, QTextBrowser, QToolButton, QVBoxLayout, QWidget, QDialog)

from .analysis_worker import AnalysisWorker
from .file_browser import FileBrowser
from .io_worker import IOWorker
from .player import Player
from .probability_panel import ProbabilityPanel
from .queue_model import ANALYSING, CANCELLED, DONE, ERROR, QUEUED, QueueModel
from .queue_table import QueueTable
from .settings import open_settings
from .signal_view import SignalView

logger = logging.getLogger(__name__)

#: TensorFlow traces its graphs with deep native recursion; the default thread stack of a
#: QThread is too small for it and the process segfaults.
WORKER_STACK_BYTES = 64 * 1024 * 1024
DEFAULT_SIZE = QSize(1440, 900)
DEFAULT_SPLITTER = [480, 680, 290]
DEFAULT_BASELINE = False
VIEW_CACHE_SIZE = 6
#: Python's GIL hand-over interval while the window lives (default 5 ms). Every table cell
#: Qt paints is a Python call needing the GIL; with a worker busy in Python each of those can
#: wait a whole interval, and a repaint of the queue stalled the event loop for ~100 ms.
GIL_SWITCH_INTERVAL_S = 0.0005
EMPTY_HINT = "Drop audio files or folders anywhere in this window, or use File ▸ Open"


class MainWindow(QMainWindow):
    _analyse_requested = Signal(object, bool)   # paths, speaker baseline
    _load_requested = Signal()
    _view_requested = Signal(str)
    _durations_requested = Signal(object)
    _export_requested = Signal(str, object, object)
    idle = Signal()              # nothing queued or analysing and the model settled (loaded or failed)
    view_shown = Signal(str)     # the selected file's waveform/spectrogram (or why not) is drawn
    export_finished = Signal(str, str)  # path, error ("" on success)

    def __init__(self, model_path=None, *, settings=None, playback=True):
        super().__init__()
        from ser_engine import EMOTIONS  # light: no NumPy, no TensorFlow

        self.setWindowTitle("SER Studio")
        self.setAcceptDrops(True)
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
        self._settings = settings if settings is not None else open_settings()
        self._queue = QueueModel(self)
        self._ready = False
        self._model_settled = False
        self._model_info = None
        self._job = None
        self._batch_done = 0
        self._selected = ""
        self._segment = -1
        self._shown_view = ""
        self._view_cache = collections.OrderedDict()
        self._card_dialog = None

        # -- widgets ------------------------------------------------------------------------
        self.browser = FileBrowser(self)
        self.table = QueueTable(self._queue, self)
        self.signal_view = SignalView(self)
        self.panel = ProbabilityPanel(EMOTIONS, self)
        self.player = Player(self, enabled=playback)

        left = QSplitter(Qt.Vertical, self)
        left.addWidget(_titled("Files", self.browser))
        left.addWidget(_titled("Queue", self.table))
        left.setStretchFactor(0, 2)
        left.setStretchFactor(1, 3)
        left.setMinimumWidth(220)
        self._left = left

        self._play_button = QToolButton(self)
        self._play_button.setIcon(self.style().standardIcon(QStyle.SP_MediaPlay))
        self._play_button.setToolTip("Play / pause (Space)")
        self._play_button.clicked.connect(self._on_play_toggled)
        self._time_label = QLabel("", self)
        self._time_label.setMinimumWidth(140)
        self._playback_note = QLabel(self.player.reason, self)
        self._playback_note.setToolTip(self.player.details)
        self._playback_note.setStyleSheet("color: #8a6d00;")
        self._play_button.setEnabled(self.player.available)
        self.signal_view.setToolTip("Mouse wheel or drag: zoom and pan along time (all rows together). "
                                    "Click: move the playhead. Click the emotion strip: that segment's "
                                    "probabilities.")
        self._playback_note.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self._playback_note.setMinimumWidth(40)
        transport = QHBoxLayout()
        transport.setContentsMargins(4, 0, 4, 0)
        transport.addWidget(self._play_button)
        transport.addWidget(self._time_label)
        transport.addWidget(self._playback_note, 1)
        centre = QWidget(self)
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.setSpacing(2)
        centre_layout.addWidget(self.signal_view, 1)
        centre_layout.addLayout(transport)

        splitter = QSplitter(Qt.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(centre)
        splitter.addWidget(self.panel)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 0)
        splitter.setSizes(DEFAULT_SPLITTER)
        splitter.setChildrenCollapsible(False)
        self._splitter = splitter
        self.setCentralWidget(splitter)

        self._progress = QProgressBar(self)
        self._progress.setMaximumWidth(220)
        self._progress.setTextVisible(True)
        self._progress.hide()
        self._cancel_button = QToolButton(self)
        self._cancel_button.setText("Cancel")
        self._cancel_button.hide()
        self._summary = QLabel("", self)
        self.statusBar().addPermanentWidget(self._summary)
        self.statusBar().addPermanentWidget(self._progress)
        self.statusBar().addPermanentWidget(self._cancel_button)
        self.statusBar().showMessage("Loading model…")

        self._build_actions()
        self._cancel_button.clicked.connect(self.cancel)

        # -- connections --------------------------------------------------------------------
        self.browser.paths_activated.connect(self.add_paths)
        self.table.current_path_changed.connect(self._on_current_path_changed)
        self.signal_view.seek_requested.connect(self._on_seek_requested)
        self.signal_view.segment_clicked.connect(self._on_segment_clicked)
        self.panel.card_requested.connect(self.show_model_card)
        self.panel.whole_recording_requested.connect(self._on_whole_recording_requested)
        self.panel.segment_requested.connect(self._on_segment_clicked)
        self.player.position_changed.connect(self._on_player_position_changed)
        self.player.playing_changed.connect(self._on_playing_changed)
        self.player.unavailable.connect(self._on_playback_unavailable)
        self._queue.rowsInserted.connect(self._update_summary)
        self._queue.dataChanged.connect(self._update_summary)

        self.resize(DEFAULT_SIZE)
        self._sizes_restored = False
        self.restore_state(self._settings)

        # -- workers ------------------------------------------------------------------------
        self._thread = QThread(self)
        self._thread.setObjectName("analysis")
        self._thread.setStackSize(WORKER_STACK_BYTES)
        self._worker = AnalysisWorker(model_path)
        self._worker.moveToThread(self._thread)
        self._load_requested.connect(self._worker.load_model)
        self._analyse_requested.connect(self._worker.analyse)
        self._worker.model_ready.connect(self._on_model_ready)
        self._worker.model_failed.connect(self._on_model_failed)
        self._worker.result_ready.connect(self._on_result)
        self._worker.group_progress.connect(self._on_group_progress)
        self._worker.job_finished.connect(self._on_job_finished)

        self._io_thread = QThread(self)
        self._io_thread.setObjectName("io")
        self._io = IOWorker()
        self._io.moveToThread(self._io_thread)
        self._view_requested.connect(self._io.load_view)
        self._durations_requested.connect(self._io.probe_durations)
        self._export_requested.connect(self._io.export_csv)
        self._io.view_ready.connect(self._on_view_ready)
        self._io.view_failed.connect(self._on_view_failed)
        self._io.durations_ready.connect(self._on_durations_ready)
        self._io.export_finished.connect(self._on_export_finished)

        self.signal_view.show_empty(EMPTY_HINT)
        self._thread.start()
        self._io_thread.start()
        self._load_requested.emit()

    def _build_actions(self):
        style = self.style()

        def action(text, slot, shortcut=None, icon=None, tip=None, checkable=False):
            a = QAction(text, self)
            if icon is not None:
                a.setIcon(style.standardIcon(icon))
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
            if tip:
                a.setStatusTip(tip)
                a.setToolTip(tip)
            a.setCheckable(checkable)
            a.triggered.connect(slot)
            return a

        self.open_files_action = action("&Open files…", self._on_open_files, QKeySequence.Open,
                                        QStyle.SP_DialogOpenButton, "Queue audio files for analysis")
        self.open_folder_action = action("Open &folder…", self._on_open_folder, "Ctrl+Shift+O",
                                         QStyle.SP_DirOpenIcon, "Queue every recording in a folder")
        self.export_action = action("&Export results…", self._on_export, "Ctrl+E", QStyle.SP_DialogSaveButton,
                                    "Save the queue's results as a CSV file")
        self.clear_action = action("&Clear queue", self.clear_queue, None, None, "Remove every file from the queue")
        self.quit_action = action("&Quit", self.close, QKeySequence.Quit)
        self.cancel_action = action("&Cancel analysis", self.cancel, "Esc", QStyle.SP_BrowserStop,
                                    "Stop the batch; files not yet analysed stay in the queue")
        self.cancel_action.setEnabled(False)
        self.baseline_action = action("Speaker &baseline", self._on_baseline_toggled, "Ctrl+B", None,
                                      "Treat the files of each folder as one speaker and normalise by "
                                      "their own statistics (re-analyses the queue)", checkable=True)
        self.reanalyse_action = action("&Analyse again", self.reanalyse, "Ctrl+R", QStyle.SP_BrowserReload,
                                       "Analyse cancelled and finished files again")
        self.play_action = action("&Play / pause", self._on_play_toggled, "Space", QStyle.SP_MediaPlay,
                                  "Play or pause the selected recording")
        self.play_action.setShortcutContext(Qt.WindowShortcut)
        self.reset_zoom_action = action("&Reset zoom", self.signal_view.reset_zoom, "Ctrl+0", None,
                                        "Show the whole recording")
        self.browser_action = action("File &browser", self._on_browser_toggled, "Ctrl+Shift+B", None,
                                     "Show or hide the file browser", checkable=True)
        self.browser_action.setChecked(True)
        self.card_action = action("&Model card", self.show_model_card, "F1", QStyle.SP_FileDialogInfoView,
                                  "What the model was trained on, how well it does, its limits")
        self.card_action.setEnabled(False)
        self.about_action = action("&About SER Studio", self.show_about)

        menus = self.menuBar()
        m = menus.addMenu("&File")
        for a in (self.open_files_action, self.open_folder_action, None, self.export_action, self.clear_action,
                  None, self.quit_action):
            m.addSeparator() if a is None else m.addAction(a)
        m = menus.addMenu("&Analysis")
        for a in (self.baseline_action, self.reanalyse_action, None, self.cancel_action):
            m.addSeparator() if a is None else m.addAction(a)
        m = menus.addMenu("&View")
        for a in (self.play_action, self.reset_zoom_action, None, self.browser_action):
            m.addSeparator() if a is None else m.addAction(a)
        m = menus.addMenu("&Help")
        m.addAction(self.card_action)
        m.addAction(self.about_action)

        bar = self.addToolBar("Main")
        bar.setObjectName("main-toolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        bar.setIconSize(QSize(18, 18))
        for a in (self.open_files_action, self.open_folder_action, None, self.play_action, self.reset_zoom_action,
                  None, self.baseline_action, self.cancel_action, None, self.export_action, self.card_action):
            bar.addSeparator() if a is None else bar.addAction(a)
        self.addAction(self.play_action)

    # -- the queue ------------------------------------------------------------------------
    def add_paths(self, paths):
        """Queue files, and the audio files inside folders (walked recursively). Returns how
        many were new. Before the model is ready they wait in the queue."""
        from ser_engine.audio import iter_audio_files

        new = self._queue.add([str(p) for p in iter_audio_files(paths)])
        if new:
            if not self.browser.folder_chosen():
                self.browser.set_folder(Path(new[0]).parent)
            self._durations_requested.emit(new)
            self.statusBar().showMessage(f"Queued {len(new)} file{'s' * (len(new) != 1)}", 3000)
            if not self._selected:
                self.table.select_path(new[0])
        self._next()
        return len(new)

    def queued_paths(self):
        """Every path in the queue, in the order it was added."""
        return [e.path for e in self._queue.entries()]

    def status_of(self, path):
        return self._queue.entry(path).status

    def result_of(self, path):
        """The Result of ``path`` (None unless it is done)."""
        return self._queue.entry(path).result

    def error_of(self, path):
        return self._queue.entry(path).error

    def select_path(self, path):
        self.table.select_path(path)

    def selected_path(self):
        return self._selected

    def shown_view_path(self):
        return self._shown_view

    def is_idle(self):
        return self._model_settled and self._job is None and not self._queue.paths_with_status(QUEUED)

    def cancel(self):
        """Stop the batch: the file being analysed finishes, the others become 'cancelled'."""
        self._worker.cancel()
        for path in self._queue.paths_with_status(QUEUED):
            self._queue.set_status(path, CANCELLED)
        self.statusBar().showMessage("Cancelled: Analysis ▸ Analyse again resumes", 5000)
        self._next()

    def reanalyse(self, statuses=(CANCELLED, DONE)):
        for path in self._queue.paths_with_status(*statuses):
            self._queue.set_status(path, QUEUED)
        self._next()

    def clear_queue(self):
        self._worker.cancel()
        self._queue.clear()
        self._selected = ""
        self._view_cache.clear()
        self.player.load("")
        self.signal_view.show_empty(EMPTY_HINT)
        self.panel.clear()
        self._next()

    def speaker_baseline(self):
        return self.baseline_action.isChecked()

    def set_speaker_baseline(self, on):
        if on != self.baseline_action.isChecked():
            self.baseline_action.setChecked(on)
            self._on_baseline_toggled(on)

    def _next(self):
        """Send the next job to the worker, or announce that the queue is settled."""
        if self._job is not None or not self._ready:
            if self._model_settled and not self._ready and self._job is None:
                self._emit_idle()
            return
        pending = self._queue.paths_with_status(QUEUED)
        if not pending:
            self._emit_idle()
            return
        baseline = self.speaker_baseline()
        if baseline:  # the whole folder is one speaker: finished files of it join the new ones
            folder = Path(pending[0]).parent
            job = [p for p in self._queue.paths_with_status(QUEUED, DONE) if Path(p).parent == folder]
        else:
            job = pending[:1]
        for p in job:
            self._queue.set_status(p, ANALYSING)
        self._job = job
        self._update_progress()
        first = Path(job[0]).name
        where = f"{len(job)} files of {folder.name or folder} (speaker baseline)" if baseline else first
        self.statusBar().showMessage(f"Analysing {where}…")
        self.cancel_action.setEnabled(True)
        self._refresh_panel_if_selected(job)
        self._analyse_requested.emit(job, baseline)

    def _emit_idle(self):
        self._progress.hide()
        self._cancel_button.hide()
        self.cancel_action.setEnabled(False)
        self._batch_done = 0
        self.statusBar().showMessage("Ready" if self._ready else "No model: see the panel on the right")
        self.idle.emit()

    def _update_progress(self):
        remaining = len(self._queue.paths_with_status(QUEUED, ANALYSING))
        total = self._batch_done + remaining
        if remaining == 0 or total == 0:
            return
        self._progress.setRange(0, total)
        self._progress.setValue(self._batch_done)
        self._progress.setFormat(f"{self._batch_done} of {total}")
        self._progress.show()
        self._cancel_button.show()

    def _update_summary(self, *_):
        entries = self._queue.entries()
        counts = collections.Counter(e.status for e in entries)
        parts = [f"{len(entries)} file{'s' * (len(entries) != 1)}"]
        parts += [f"{counts[s]} {s}" for s in (DONE, ERROR, CANCELLED) if counts[s]]
        self._summary.setText(" · ".join(parts) if entries else "")

    # -- worker events ------------------------------------------------------------------
    def _on_model_ready(self, info):
        self._ready = True
        self._model_settled = True
        if self._selected and self._shown_view != self._selected:
            self._request_view(self._selected)
        self._model_info = info
        self.panel.set_model_info(info)
        self.card_action.setEnabled(bool(info.get("card")))
        self.setWindowTitle(f"SER Studio — {info['model_id']}")
        if info.get("warning"):
            self.statusBar().showMessage(info["warning"], 8000)
        self._next()

    def _on_model_failed(self, reason):
        self._model_settled = True
        if self._selected and self._shown_view != self._selected:
            self._request_view(self._selected)
        self.panel.set_model_failed(reason)
        self.statusBar().showMessage("No model: see the panel on the right")
        self._next()

    def _on_result(self, result):
        if not self._queue.set_result(result):
            return
        self._batch_done += 1
        self._update_progress()
        if result.path == self._selected:
            self._show_selected()
        elif not self._selected:
            self.table.select_path(result.path)

    def _on_group_progress(self, done, total):
        self.statusBar().showMessage(f"Analysing speaker group: {done} of {total}…")

    def _on_job_finished(self, paths):
        for p in paths:
            if p in self._queue and self._queue.entry(p).status == ANALYSING:  # cancelled inside a group
                self._queue.set_status(p, DONE if self._queue.entry(p).result is not None else CANCELLED)
        self._job = None
        self._refresh_panel_if_selected(paths)
        self._next()

    def _on_durations_ready(self, durations):
        self._queue.set_durations(durations)

    # -- selection and views --------------------------------------------------------------
    def _on_current_path_changed(self, path):
        self._selected = path
        self._segment = -1
        self.player.load(path)
        self._update_time_label(0.0)
        if not path:
            self.signal_view.show_empty(EMPTY_HINT)
            self.panel.clear()
            return
        if path in self._view_cache:
            self._view_cache.move_to_end(path)
            self._draw_view(path, self._view_cache[path])
        else:
            self._shown_view = ""
            self._request_view(path)
        self._show_selected()

    def _request_view(self, path):
        # The I/O worker imports librosa (filter banks); the analysis worker imports TensorFlow
        # and librosa while the model loads. They take turns: views wait until the model settled.
        if not self._model_settled:
            self.signal_view.show_empty("Loading… (the waveform appears once the model is loaded)")
            return
        self.signal_view.show_empty("Loading…")
        self._io.want(path)
        self._view_requested.emit(path)

    def _show_selected(self):
        path = self._selected
        if not path or path not in self._queue:
            return
        e = self._queue.entry(path)
        if e.result is not None:
            segs = e.result.segments
            self.signal_view.set_segments(segs)
            if 0 <= self._segment < len(segs):
                self.signal_view.strip.select(self._segment)
                self.panel.show_result(e.result, segs[self._segment])
            else:
                self._segment = -1
                self.panel.show_result(e.result)
        elif e.status == ERROR:
            self.signal_view.set_segments([])
            self.panel.show_error(path, e.error)
        else:
            self.signal_view.set_segments([])
            self.panel.show_pending(path, e.status)

    def _refresh_panel_if_selected(self, paths):
        if self._selected in paths:
            self._show_selected()

    def _draw_view(self, path, data):
        self.signal_view.set_view_data(data)
        self._shown_view = path
        self._show_selected()
        self.view_shown.emit(path)

    def _on_view_ready(self, path, data):
        self._view_cache[path] = data
        while len(self._view_cache) > VIEW_CACHE_SIZE:
            self._view_cache.popitem(last=False)
        if path == self._selected:
            self._draw_view(path, data)

    def _on_view_failed(self, path, reason):
        if path == self._selected:
            self.signal_view.show_empty(f"Cannot display this file: {reason}")
            self._shown_view = path
            self.view_shown.emit(path)

    def _on_segment_clicked(self, index):
        self._segment = index
        self._show_selected()

    def _on_whole_recording_requested(self):
        self._segment = -1
        self.signal_view.strip.select(-1)
        self._show_selected()

    # -- playback -------------------------------------------------------------------------
    def _on_play_toggled(self, *_):
        if not self.player.available:
            self.statusBar().showMessage(self.player.reason, 5000)
            return
        if self._selected:
            self.player.toggle()

    def _on_seek_requested(self, seconds):
        self.signal_view.set_playhead(seconds)
        self.player.seek(seconds)
        self._update_time_label(seconds)

    def _on_player_position_changed(self, seconds):
        self.signal_view.set_playhead(seconds)
        self._update_time_label(seconds)

    def _on_playing_changed(self, playing):
        icon = QStyle.SP_MediaPause if playing else QStyle.SP_MediaPlay
        self._play_button.setIcon(self.style().standardIcon(icon))

    def _on_playback_unavailable(self, reason):
        self._playback_note.setText(reason)
        self._playback_note.setToolTip(reason)

    def _update_time_label(self, seconds):
        total = self.signal_view.duration()
        self._time_label.setText(f"{seconds:5.2f} s / {total:.2f} s" if total else "")

    # -- actions --------------------------------------------------------------------------
    def _on_open_files(self):
        from ser_engine.audio import AUDIO_EXTENSIONS

        patterns = " ".join(f"*{e}" for e in AUDIO_EXTENSIONS)
        paths, _ = QFileDialog.getOpenFileNames(self, "Open recordings", self.browser.folder(),
                                                f"Audio files ({patterns});;All files (*)")
        if paths:
            self.add_paths(paths)

    def _on_open_folder(self):
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of recordings", self.browser.folder())
        if folder:
            self.browser.set_folder(folder)
            self.add_paths([folder])

    def _on_baseline_toggled(self, on):
        n = len(self._queue.paths_with_status(DONE, CANCELLED))
        self.reanalyse()
        if n:
            mode = "speaker baseline" if on else "global normalisation"
            self.statusBar().showMessage(f"Re-analysing {n} file{'s' * (n != 1)} with {mode}…", 4000)

    def _on_browser_toggled(self, on):
        self._left.widget(0).setVisible(on)

    def _on_export(self):
        start = os.path.join(self.browser.folder(), "ser-studio-results.csv")
        target, _ = QFileDialog.getSaveFileName(self, "Export results", start, "CSV files (*.csv)")
        if target:
            self.export_csv(target)

    def export_csv(self, target):
        """Write the queue's results to ``target`` (CSV, atomically, in the I/O worker)."""
        from ser_engine import EMOTIONS

        labels = list(self._model_info["labels"]) if self._model_info else list(EMOTIONS)
        header = ["file", "path", "status", "duration_s", "label", "confidence", "uncertain", "normalisation",
                  "model_id", "model_version", "error"] + [f"p_{k}" for k in labels]
        rows = []
        for e in self._queue.entries():
            r = e.result
            row = [Path(e.path).name, e.path, e.status, "" if e.duration is None else f"{e.duration:.3f}"]
            if r is not None:
                row += [r.label, f"{r.confidence:.4f}", str(bool(r.uncertain)).lower(), r.normalisation,
                        r.model_id, r.model_version, ""]
                row += [f"{r.probabilities.get(k, 0.0):.4f}" for k in labels]
            else:
                row += ["", "", "", "", "", "", e.error] + [""] * len(labels)
            rows.append(row)
        self.statusBar().showMessage(f"Exporting {len(rows)} rows…")
        self._export_requested.emit(str(target), header, rows)

    def _on_export_finished(self, target, error):
        if error:
            self.statusBar().showMessage(f"Export failed: {error}", 10000)
            if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
                QMessageBox.warning(self, "Export failed", f"The results could not be saved:\n{error}")
        else:
            self.statusBar().showMessage(f"Results saved to {target}", 8000)
        self.export_finished.emit(target, error)

    def show_model_card(self):
        if not self._model_info or not self._model_info.get("card"):
            self.statusBar().showMessage("The model card is not available (no model loaded)", 4000)
            return
        if self._card_dialog is None:
            dialog = QDialog(self)
            dialog.setWindowTitle(f"Model card — {self._model_info['model_id']}")
            view = QTextBrowser(dialog)
            view.setOpenExternalLinks(False)
            view.setMarkdown(self._model_info["card"])
            layout = QVBoxLayout(dialog)
            layout.addWidget(view)
            dialog.resize(680, 760)
            dialog.card_view = view
            self._card_dialog = dialog
        self._card_dialog.show()
        self._card_dialog.raise_()

    def about_text(self):
        import pyqtgraph
        import PySide6
        from PySide6.QtCore import qVersion

        import ser_engine

        lines = [f"<b>SER Studio {ser_engine.__version__}</b>",
                 "Offline speech emotion recognition for reviewing recordings.", "",
                 f"Python {platform.python_version()} · Qt {qVersion()} · PySide6 {PySide6.__version__} · "
                 f"pyqtgraph {pyqtgraph.__version__}"]
        for name in ("tensorflow", "keras", "numpy"):
            module = sys.modules.get(name)  # only what is already loaded: About must stay instant
            if module is not None:
                lines[-1] += f" · {name} {getattr(module, '__version__', '?')}"
        if self._model_info:
            lines += ["", f"Model: {self._model_info['model_id']}, version {self._model_info['version']}",
                      self._model_info.get("source", "")]
        else:
            lines += ["", "Model: not loaded"]
        lines += ["", "No data leaves this computer."]
        return "<br>".join(lines)

    def show_about(self):
        QMessageBox.about(self, "About SER Studio", self.about_text())

    # -- drag and drop --------------------------------------------------------------------
    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.add_paths(paths)
            event.acceptProposedAction()

    # -- settings and shutdown --------------------------------------------------------------
    def save_state(self, settings):
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/splitter", self._splitter.saveState())
        settings.setValue("window/left_splitter", self._left.saveState())
        settings.setValue("window/browser_visible", self.browser_action.isChecked())
        settings.setValue("analysis/speaker_baseline", self.speaker_baseline())
        self.browser.save_state(settings)
        self.table.save_state(settings)
        self.signal_view.save_state(settings)
        settings.sync()

    def restore_state(self, settings):
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        for key, splitter in (("window/splitter", self._splitter), ("window/left_splitter", self._left)):
            state = settings.value(key)
            if isinstance(state, QByteArray) and not state.isEmpty():
                splitter.restoreState(state)
                self._sizes_restored = True
        visible = _as_bool(settings.value("window/browser_visible", True))
        self.browser_action.setChecked(visible)
        self._on_browser_toggled(visible)
        self.baseline_action.setChecked(_as_bool(settings.value("analysis/speaker_baseline", DEFAULT_BASELINE)))
        self.browser.restore_state(settings)
        self.table.restore_state(settings)
        self.signal_view.restore_state(settings)

    def showEvent(self, event):
        super().showEvent(event)
        if not self._sizes_restored:  # sizes given before the first show are scaled down
            self._sizes_restored = True
            self._splitter.setSizes(DEFAULT_SPLITTER)
            QTimer.singleShot(0, lambda: self._splitter.setSizes(_scaled(DEFAULT_SPLITTER, self._splitter.width())))

    def closeEvent(self, event):
        self.save_state(self._settings)
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self):
        """Stop the worker threads. Must run before the application object goes away:
        a QThread destroyed while running aborts the process."""
        self.player.stop()
        self._worker.cancel()
        for thread in (self._thread, self._io_thread):
            if thread.isRunning():
                thread.quit()
                thread.wait()


def _titled(title, widget):
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 4, 4, 0)
    layout.setSpacing(2)
    label = QLabel(title)
    label.setStyleSheet("font-weight: 600; color: #333;")
    layout.addWidget(label)
    layout.addWidget(widget, 1)
    return box


def _scaled(sizes, total):
    """``sizes`` with the middle one taking what the window has beyond their sum."""
    extra = total - sum(sizes)
    return [sizes[0], max(200, sizes[1] + extra), sizes[2]]


def _as_bool(value):
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)
