"""The main window: the Analyse tab (file browser and queue on the left, the selected
recording's signal, spectrogram and emotion strip in the centre, its probabilities on the
right) and the Train tab (:mod:`desktop.train_tab`).

The timeline under the spectrogram has two tiers: the model's segments and the clinician's
labels (:mod:`desktop.review_controller`). Click a segment (or ←/→) to select it, 1–8 set
the clinician's label (the model's label order, shown in the legend tooltip), 0 clears it,
L loops it (:mod:`desktop.window_timeline`). File ▸ Export… writes the selected recording or the
queue (:mod:`desktop.export_dialog`); File ▸ Clear cache… empties the cache folder
(:mod:`desktop.window_export`). Help ▸ Model card and About: :mod:`desktop.window_help`.

Thread rules (docs/DESIGN.md): this window only draws. The model lives in
:class:`~desktop.analysis_worker.AnalysisWorker`, audio for display, durations and exports in
:class:`~desktop.io_worker.IOWorker`, each in its own QThread; they answer by signals.
"""

import collections
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QSize, Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import (QFileDialog, QFrame, QLabel, QMainWindow, QProgressBar, QScrollArea, QSplitter,
                               QTabWidget, QToolButton, QVBoxLayout, QWidget)

from .analysis_worker import AnalysisWorker
from .file_browser import FileBrowser
from .headline import is_long, summary_of
from .io_worker import IOWorker
from .player import Player
from .probability_panel import ProbabilityPanel
from .queue_model import ANALYSING, CANCELLED, DONE, ERROR, QUEUED, QueueModel
from .queue_table import QueueTable
from .review_controller import ReviewController
from .settings import open_settings
from .signal_view import SignalView
from .train_tab import TrainTab
from .widgets import titled
from .window_actions import build_actions
from .window_export import ExportMixin
from .window_help import HelpMixin
from .window_timeline import TimelineMixin, keys_legend, timeline_help

logger = logging.getLogger(__name__)

#: TensorFlow traces its graphs with deep native recursion; the default thread stack of a
#: QThread is too small for it and the process segfaults.
WORKER_STACK_BYTES = 64 * 1024 * 1024
DEFAULT_SIZE = QSize(1440, 900)
DEFAULT_SPLITTER = [600, 560, 290]  # the queue shows all its columns at the default size
DEFAULT_BASELINE = False
VIEW_CACHE_SIZE = 6
#: Python's GIL hand-over interval while the window lives (default 5 ms). Every table cell
#: Qt paints is a Python call needing the GIL; with a worker busy in Python each of those can
#: wait a whole interval, and a repaint of the queue stalled the event loop for ~100 ms.
GIL_SWITCH_INTERVAL_S = 0.0005
EMPTY_HINT = "Drop audio files or folders anywhere in this window, or use File ▸ Open"


# Parts of the window live in their own modules, each saying why it is a mixin: the timeline and
# playback (window_timeline), exports and the cache (window_export), the Help menu (window_help).
# The actions, menus and toolbar are built by window_actions.build_actions.
class MainWindow(ExportMixin, HelpMixin, TimelineMixin, QMainWindow):
    _analyse_requested = Signal(object, bool, int)   # paths, speaker baseline, job number
    _load_requested = Signal()
    _switch_model_requested = Signal(object)  # bundle path, or None for the active one
    _view_requested = Signal(str)
    _durations_requested = Signal(object)
    _export_requested = Signal(str, object, object)
    _export_job_requested = Signal(object)
    _slice_requested = Signal(str, float, float)
    _clear_cache_requested = Signal()
    idle = Signal()              # nothing queued or analysing and the model settled (loaded or failed)
    view_shown = Signal(str)     # the selected file's waveform/spectrogram (or why not) is drawn
    export_finished = Signal(str, str)  # path, error ("" on success)
    analysis_progress = Signal(str, float)  # path, fraction: a block of a file was analysed
    slice_shown = Signal(str, float, float)  # path, t0, t1: a long file's visible slice is drawn
    review_changed = Signal(str)  # path: a clinician label was set or cleared (and saved)
    cache_cleared = Signal(object, object)  # bytes freed, entries kept

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
        self._partial = {}        # path -> segments delivered so far while it is analysed
        self._progress_of = {}    # path -> fraction of the file analysed
        self._strip_source = None  # (path, id of the segment list) the timeline shows
        self.reviews = ReviewController()

        # -- widgets ------------------------------------------------------------------------
        self.browser = FileBrowser(self)
        self.table = QueueTable(self._queue, self)
        self.signal_view = SignalView(self)
        self.panel = ProbabilityPanel(EMOTIONS, self)
        self.player = Player(self, enabled=playback)

        left = QSplitter(Qt.Vertical, self)
        left.addWidget(titled("Files", self.browser))
        left.addWidget(titled("Queue", self.table))
        left.setStretchFactor(0, 2)
        left.setStretchFactor(1, 3)
        left.setMinimumWidth(220)
        self._left = left

        transport = self._build_transport()
        self.signal_view.setToolTip(timeline_help(EMOTIONS))
        centre = QWidget(self)
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.setSpacing(2)
        self._keys_legend = QLabel(keys_legend(EMOTIONS), self)
        self._keys_legend.setStyleSheet("color: #555; font-size: 11px; padding: 0 6px;")
        self._keys_legend.setWordWrap(True)
        centre_layout.addWidget(self.signal_view, 1)
        centre_layout.addWidget(self._keys_legend)
        centre_layout.addLayout(transport)

        splitter = QSplitter(Qt.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(centre)
        # the panel scrolls rather than holding the whole window taller than a laptop screen
        panel_scroll = QScrollArea(self)
        panel_scroll.setWidget(self.panel)
        panel_scroll.setWidgetResizable(True)
        panel_scroll.setFrameShape(QFrame.NoFrame)
        panel_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        panel_scroll.setMinimumWidth(self.panel.minimumSizeHint().width())
        splitter.addWidget(panel_scroll)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setStretchFactor(2, 0)
        splitter.setSizes(DEFAULT_SPLITTER)
        splitter.setChildrenCollapsible(False)
        self._splitter = splitter
        self.train_tab = TrainTab(self)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(splitter, "Analyse")
        self.tabs.addTab(self.train_tab, "Train")
        self.setCentralWidget(self.tabs)

        self._progress = QProgressBar(self)
        self._progress.setMaximumWidth(220)
        self._progress.setTextVisible(True)
        self._progress.hide()
        self._cancel_button = QToolButton(self)
        self._cancel_button.setText("Cancel")
        self._cancel_button.hide()
        self._summary = QLabel("", self)
        self._model_label = QLabel("Model: loading…", self)
        self._model_label.setStyleSheet("color: #333; padding: 0 6px;")
        self.statusBar().addPermanentWidget(self._summary)
        self.statusBar().addPermanentWidget(self._model_label)
        self.statusBar().addPermanentWidget(self._progress)
        self.statusBar().addPermanentWidget(self._cancel_button)
        self.statusBar().showMessage("Loading model…")

        build_actions(self)
        self._cancel_button.clicked.connect(self.cancel)

        # -- connections --------------------------------------------------------------------
        self.browser.paths_activated.connect(self.add_paths)
        self.table.current_path_changed.connect(self._on_current_path_changed)
        self.signal_view.seek_requested.connect(self._on_seek_requested)
        self.signal_view.segment_clicked.connect(self._on_segment_clicked)
        self.signal_view.step_requested.connect(self.step_segment)
        self.signal_view.label_key.connect(self.set_clinician_label)
        self.signal_view.loop_requested.connect(self.toggle_loop)
        self.signal_view.slice_requested.connect(self._on_slice_requested)
        self.panel.card_requested.connect(self.show_model_card)
        self.panel.whole_recording_requested.connect(self._on_whole_recording_requested)
        self.panel.segment_requested.connect(self.select_segment)
        self.player.position_changed.connect(self._on_player_position_changed)
        self.player.playing_changed.connect(self._on_playing_changed)
        self.player.unavailable.connect(self._on_playback_unavailable)
        self._queue.rowsInserted.connect(self._update_summary)
        self._queue.dataChanged.connect(self._update_summary)
        self.train_tab.active_model_changed.connect(self._on_active_model_changed)

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
        self._switch_model_requested.connect(self._worker.switch_model)
        self._analyse_requested.connect(self._worker.analyse)
        self._worker.model_ready.connect(self._on_model_ready)
        self._worker.model_failed.connect(self._on_model_failed)
        self._worker.result_ready.connect(self._on_result)
        self._worker.block_ready.connect(self._on_block)
        self._worker.group_progress.connect(self._on_group_progress)
        self._worker.job_finished.connect(self._on_job_finished)

        self._io_thread = QThread(self)
        self._io_thread.setObjectName("io")
        self._io = IOWorker()
        self._io.moveToThread(self._io_thread)
        self._view_requested.connect(self._io.load_view)
        self._durations_requested.connect(self._io.probe_durations)
        self._export_requested.connect(self._io.export_csv)
        self._export_job_requested.connect(self._io.export)
        self._slice_requested.connect(self._io.load_slice)
        self._clear_cache_requested.connect(self._io.clear_cache)
        self._io.slice_ready.connect(self._on_slice_ready)
        self._io.cache_cleared.connect(self._on_cache_cleared)
        self._io.view_ready.connect(self._on_view_ready)
        self._io.view_failed.connect(self._on_view_failed)
        self._io.durations_ready.connect(self._on_durations_ready)
        self._io.export_finished.connect(self._on_export_finished)

        self.signal_view.show_empty(EMPTY_HINT)
        self._thread.start()
        self._io_thread.start()
        self._load_requested.emit()

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
        self._partial.clear()
        self._progress_of.clear()
        self._strip_source = None
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
        if baseline:  # the whole folder is one speaker: its finished clips join the new files
            folder = Path(pending[0]).parent
            job = [p for p in self._queue.paths_with_status(QUEUED, DONE)
                   if Path(p).parent == folder and self._joins_group(p)]
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
        self._analyse_requested.emit(job, baseline, self._worker.next_job())

    def _joins_group(self, path):
        """A queued file, or a finished clip; a finished long recording is its own baseline and
        would only be analysed again, with the same result."""
        entry = self._queue.entry(path)
        return entry.status == QUEUED or entry.result is None or not is_long(entry.result)

    def _emit_idle(self):
        self._progress.hide()
        self._cancel_button.hide()
        self.cancel_action.setEnabled(False)
        self._batch_done = 0
        self.statusBar().showMessage("Ready" if self._ready else "No model: see the panel on the right")
        self.idle.emit()

    def _update_progress(self):
        """One bar for the batch, moving within each file as its blocks are analysed: a
        single long file shows its own percentage."""
        analysing = self._queue.paths_with_status(ANALYSING)
        remaining = len(self._queue.paths_with_status(QUEUED)) + len(analysing)
        total = self._batch_done + remaining
        if remaining == 0 or total == 0:
            return
        within = sum(self._progress_of.get(p, 0.0) for p in analysing)
        self._progress.setRange(0, total * 1000)
        self._progress.setValue(int(round((self._batch_done + within) * 1000)))
        if total == 1 and len(analysing) == 1:
            self._progress.setFormat(f"{Path(analysing[0]).name[:18]}: {within:.0%}")
        else:
            self._progress.setFormat(f"{self._batch_done} of {total}" + (f" · {within:.0%}" if within else ""))
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
        self._model_label.setText(f"Model: {info['model_id']}")
        self.signal_view.setToolTip(timeline_help(tuple(info["labels"])))
        self._keys_legend.setText(keys_legend(tuple(info["labels"])))
        self._model_label.setToolTip(info.get("source", ""))
        self._queue.set_active_model(info["model_id"])
        self._next()
        others = self._queue.labelled_by_other_models()
        if info.get("warning"):
            self.statusBar().showMessage(info["warning"], 8000)
        elif others:  # after _next(): this must not be replaced by "Ready"
            self.statusBar().showMessage(
                f"Now using {info['model_id']}. {len(others)} file{'s' * (len(others) != 1)} labelled by another "
                "model keep their labels (Model column); Analysis ▸ Analyse again re-labels them.", 10000)

    def _on_active_model_changed(self):
        """The Train tab made another model active: load it; labels already given stay as they
        are, each row naming the model that gave it."""
        self._model_label.setText("Model: loading…")
        self.statusBar().showMessage("Loading the active model…")
        self._switch_model_requested.emit(None)

    def _on_model_failed(self, reason):
        self._model_settled = True
        self._model_label.setText("Model: none")
        if self._selected and self._shown_view != self._selected:
            self._request_view(self._selected)
        self.panel.set_model_failed(reason)
        self.statusBar().showMessage("No model: see the panel on the right")
        self._next()

    def _on_block(self, path, update):
        """A block of ``path`` was analysed: progress, and the segments that became final."""
        if path not in self._queue or self._queue.entry(path).status != ANALYSING:
            return
        self._progress_of[path] = update.fraction
        self._queue.set_progress(path, update.fraction)
        self._update_progress()
        if update.new_segments:
            partial = self._partial.setdefault(path, [])
            partial += update.new_segments
            if path == self._selected and self._strip_source == (path, id(partial)):
                self.signal_view.strip.append_segments(update.new_segments)
        if path == self._selected:
            self._show_selected()
        self.analysis_progress.emit(path, update.fraction)

    def _on_result(self, result):
        self._partial.pop(result.path, None)
        self._progress_of.pop(result.path, None)
        if not self._queue.set_result(result):
            return
        self.reviews.forget(result.path)
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
            self._partial.pop(p, None)
            self._progress_of.pop(p, None)
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
        self._strip_source = None
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
        if e.result is not None and not (e.status == ANALYSING and path in self._partial):
            result = e.result
            segs = result.segments
            self._show_timeline(path, segs)
            self.signal_view.strip.set_clinician(self.reviews.intervals(result))
            summary = summary_of(result, self._labels())
            corrected = self.reviews.corrected_summary(result, self._labels())
            if 0 <= self._segment < len(segs):
                seg = segs[self._segment]
                self.signal_view.strip.select(self._segment)
                self.panel.show_result(result, seg, clinician=self.reviews.label_for(result, seg),
                                       review_note=self.reviews.problem(path), summary=summary,
                                       corrected=corrected)
            else:
                self._segment = -1
                self.signal_view.strip.select(-1)
                self.panel.show_result(result, summary=summary, corrected=corrected)
        elif e.status == ERROR:
            self._show_timeline(path, [])
            self.panel.show_error(path, e.error)
        else:
            self._show_timeline(path, self._partial.get(path, []))
            self.signal_view.strip.set_clinician([])
            status = e.status
            if e.status == ANALYSING and path in self._progress_of:
                status = f"Analysing… {self._progress_of[path]:.0%} (the timeline fills as blocks finish)"
            self.panel.show_pending(path, status)

    def _show_timeline(self, path, segments):
        """Put ``segments`` in the timeline unless it already shows that very list (a session
        has 1,000s of segments: redrawing them on every key press would be slow)."""
        if self._strip_source != (path, id(segments)):
            self.signal_view.set_segments(segments)
            self._strip_source = (path, id(segments))

    def _labels(self):
        from ser_engine import EMOTIONS

        return tuple(self._model_info["labels"]) if self._model_info else tuple(EMOTIONS)

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

    # -- long recordings: the visible slice ---------------------------------------------------
    def _on_slice_requested(self, t0, t1):
        if not self._selected or self._shown_view != self._selected:
            return
        self._io.want_slice((self._selected, t0, t1))
        self._slice_requested.emit(self._selected, t0, t1)

    def _on_slice_ready(self, path, data):
        if path == self._selected and self._shown_view == path:
            self.signal_view.set_slice(data)
            self.slice_shown.emit(path, data["t0"], data["t1"])

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
        self.train_tab.save_state(settings)
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
        self.train_tab.restore_state(settings)
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
        self.train_tab.shutdown()
        self._worker.cancel()
        for thread in (self._thread, self._io_thread):
            if thread.isRunning():
                thread.quit()
                thread.wait()


def _scaled(sizes, total):
    """``sizes`` with the middle one taking what the window has beyond their sum."""
    extra = total - sum(sizes)
    return [sizes[0], max(200, sizes[1] + extra), sizes[2]]


def _as_bool(value):
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)
