"""The main window: the Analyse tab (file browser and queue on the left, the selected
recording's signal, spectrogram and timeline in the centre, its probabilities on the right)
and the Train tab (:mod:`desktop.train_tab`).

The window lays out and wires; it keeps no state of the Analyse tab. That lives in the
Qt-free :class:`~desktop.session.Session` (the queue, the selection, each recording's result
and clinician tier, the model in use, progress), which the views follow through its events:
the queue table, the right-hand panel (:mod:`desktop.readout` decides what it says), the
timeline and transport (:class:`~desktop.timeline_controller.TimelineController`), the
waveform and spectrogram (:class:`~desktop.view_controller.ViewController`), exports and the
cache (:class:`~desktop.export_controller.ExportController`) and Help
(:class:`~desktop.help_controller.HelpController`) and the Speakers menu's questions
(:class:`~desktop.speaker_controller.SpeakerController`), File ▸ Import annotations…, File ▸
Report… and the notes (:class:`~desktop.review_tools_controller.ReviewToolsController`). Every
box the window shows goes through its :class:`~desktop.dialogs.Dialogs`, which tests replace.

The queue is saved in the settings whenever it changes and restored at the next start (its
recordings analysed again; those no longer there are named in the status bar); File ▸ Open
recent lists the files and folders opened last.

Thread rules (docs/DESIGN.md): this window only draws. The model lives in
:class:`~desktop.analysis_worker.AnalysisWorker`, audio for display, durations and exports in
:class:`~desktop.io_worker.IOWorker`, each in its own QThread; they answer by signals, which
the window hands to the session.
"""

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QSize, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .analysis_worker import AnalysisWorker
from .batch_progress_bar import BatchProgressBar
from .dialogs import Dialogs
from .export_controller import ExportController
from .file_browser import FileBrowser
from .help_controller import HelpController
from .io_worker import IOWorker
from .player import Player
from .probability_panel import ProbabilityPanel
from .queue_filter_bar import QueueFilterBar
from .queue_table import QueueTable
from .recent_menu import RecentMenu
from .review_tools_controller import ReviewToolsController
from .session import DEFAULT_SPEAKERS, MODEL_READY, SPEAKER_CHOICES, Session
from .settings import open_settings
from .signal_view import SignalView
from .speaker_controller import SpeakerController
from .timeline_controller import TimelineController, keys_legend, timeline_help
from .train_tab import TrainTab
from .view_controller import ViewController
from .widgets import fitted_size, set_relative_font, titled
from .window_actions import build_actions

logger = logging.getLogger(__name__)

#: TensorFlow traces its graphs with deep native recursion; the default thread stack of a
#: QThread is too small for it and the process segfaults.
WORKER_STACK_BYTES = 64 * 1024 * 1024
DEFAULT_SIZE = QSize(1440, 900)
DEFAULT_SPLITTER = [500, 630, 290]
#: How the Analyse tab's width beyond its default is shared: queue, centre, panel.
SPLITTER_STRETCH = (1, 3, 0)
DEFAULT_BASELINE = False
#: Python's GIL hand-over interval while the window lives (default 5 ms). Every table cell
#: Qt paints is a Python call needing the GIL; with a worker busy in Python each of those can
#: wait a whole interval, and a repaint of the queue stalled the event loop for ~100 ms.
GIL_SWITCH_INTERVAL_S = 0.0005
#: The queue is written to the settings this long after its last change (ms).
QUEUE_SAVE_DELAY_MS = 500
#: How long the status bar names the recordings of the last session that are gone (ms).
RESTORE_NOTE_MS = 20000


class MainWindow(QMainWindow):
    # set by desktop.window_actions.build_actions
    open_files_action: QAction
    open_folder_action: QAction
    export_action: QAction
    import_action: QAction
    report_action: QAction
    clear_cache_action: QAction
    clear_action: QAction
    quit_action: QAction
    cancel_action: QAction
    baseline_action: QAction
    speakers_actions: list
    speakers_combo: QComboBox
    speakers_label: QLabel
    reference_file_action: QAction
    reference_stretch_action: QAction
    reference_clear_action: QAction
    next_speaker_action: QAction
    rename_speaker_action: QAction
    patient_action: QAction
    merge_speakers_action: QAction
    undo_action: QAction
    redo_action: QAction
    reviewed_action: QAction
    next_uncertain_action: QAction
    previous_uncertain_action: QAction
    split_action: QAction
    merge_action: QAction
    note_action: QAction
    recording_note_action: QAction
    reanalyse_action: QAction
    play_action: QAction
    start_action: QAction
    end_action: QAction
    back_action: QAction
    forward_action: QAction
    back_more_action: QAction
    forward_more_action: QAction
    slower_action: QAction
    faster_action: QAction
    reset_zoom_action: QAction
    browser_action: QAction
    card_action: QAction
    about_action: QAction

    idle = Signal()              # nothing queued or analysing and the model settled (loaded or failed)
    analysis_progress = Signal(str, float)  # path, fraction: a block of a file was analysed
    review_changed = Signal(str)  # path: a clinician label was set or cleared (and saved)
    _analyse_requested = Signal(object, int)   # desktop.session.Job, job number
    _reference_requested = Signal(object)      # desktop.session.Reference: build its baseline
    _load_requested = Signal()
    _switch_model_requested = Signal(object)  # bundle path, or None for the active one
    _durations_requested = Signal(object)

    def __init__(self, model_path=None, *, settings=None, playback=True, dialogs=None, restore_queue=True):
        """``playback``: True, False (off) or :data:`desktop.player.SILENT` (a real player even
        without an audio device: tests, scripted runs); ``restore_queue``: queue the recordings
        of the last session (not for the self-test and scripted runs)."""
        super().__init__()
        from ser_engine import EMOTIONS  # light: no NumPy, no TensorFlow

        self.setWindowTitle("SER Studio")
        self.setAcceptDrops(True)
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
        self._settings = settings if settings is not None else open_settings()
        self.dialogs = dialogs if dialogs is not None else Dialogs()
        if self.dialogs.parent is None:
            self.dialogs.parent = self
        self.session = Session(default_labels=tuple(EMOTIONS))

        # -- workers (created first: the controllers hold them) ------------------------------
        self._thread = QThread(self)
        self._thread.setObjectName("analysis")
        self._thread.setStackSize(WORKER_STACK_BYTES)
        self._worker = AnalysisWorker(model_path)
        self._worker.moveToThread(self._thread)
        self._io_thread = QThread(self)
        self._io_thread.setObjectName("io")
        self._io = IOWorker()
        self._io.moveToThread(self._io_thread)

        # -- widgets and controllers --------------------------------------------------------
        self.browser = FileBrowser(self)
        self.table = QueueTable(self.session, self)
        self.queue_filter = QueueFilterBar(self.session, self.table, self)
        self.recent_menu = RecentMenu(self)
        self.signal_view = SignalView(self)
        self.panel = ProbabilityPanel(self.session, self)
        self.player = Player(self, enabled=playback)
        self.views = ViewController(self.session, self.signal_view, self._io, self)
        self.timeline = TimelineController(self.session, self.signal_view, self.player, self)
        self.train_tab = TrainTab(self, dialogs=self.dialogs)
        self.exports = ExportController(self.session, self.dialogs, is_training=self.train_tab.is_running,
                                        parent=self)
        self.help = HelpController(self.session, self.dialogs, self)
        self.speakers = SpeakerController(self.session, self.dialogs, self)
        self.review_tools = ReviewToolsController(self.session, self.dialogs, self)
        self._restore_queue = restore_queue
        self._saved_queue: tuple[list[str], str] | None = None
        self._restore_note = ""  # which recordings of the last session are gone (said when idle)
        self._queue_save_timer = QTimer(self)
        self._queue_save_timer.setSingleShot(True)
        self._queue_save_timer.setInterval(QUEUE_SAVE_DELAY_MS)
        self._queue_save_timer.timeout.connect(self._write_queue)
        # the views' signals, also on the window: bench/ and scripts wait for them there
        self.view_shown = self.views.view_shown
        self.slice_shown = self.views.slice_shown
        self._build_layout(EMOTIONS)
        self._build_status_bar()
        build_actions(self)
        self._build_analyse_keys()

        # -- connections --------------------------------------------------------------------
        self.browser.paths_activated.connect(self.open_paths)
        self.recent_menu.path_chosen.connect(self._on_recent_chosen)
        self.panel.card_requested.connect(self.help.show_model_card)
        self.panel.recording_note_requested.connect(self.review_tools.edit_recording_note)
        self.panel.target_note_requested.connect(self.review_tools.edit_target_note)
        self.train_tab.active_model_changed.connect(self._on_active_model_changed)
        self._cancel_button.clicked.connect(self.cancel)
        events = self.session.events
        events.added.connect(self._on_added)
        events.changed.connect(self._on_entry_changed)
        events.cleared.connect(self._on_entry_changed)
        events.cleared.connect(self._save_queue)
        events.removed.connect(self._on_removed)
        events.selected.connect(self._on_review_changed)
        events.message.connect(self._on_message)
        events.progress.connect(self._on_progress)
        events.idle.connect(self._on_idle)
        events.model.connect(self._on_model_changed)
        events.job.connect(self._on_job)
        events.stop.connect(self._on_stop)
        events.review.connect(self.review_changed.emit)
        events.review.connect(self._on_review_changed)
        events.baseline.connect(self._on_baseline_changed)
        events.speakers.connect(self._on_speakers_changed)
        events.selected.connect(self._on_speakers_changed)
        events.changed.connect(self._on_speakers_changed)
        events.check_reference.connect(self._reference_requested.emit)
        events.reference.connect(self._on_reference_changed)
        events.segment.connect(self._on_reference_changed)
        events.stretch.connect(self._on_reference_changed)

        self._load_requested.connect(self._worker.load_model)
        self._switch_model_requested.connect(self._worker.switch_model)
        self._analyse_requested.connect(self._worker.analyse)
        self._reference_requested.connect(self._worker.check_reference)
        self._worker.reference_checked.connect(self._on_reference_checked)
        # the worker's signals reach the session through the window's slots, on the GUI thread: a
        # plain method as the receiver ran in the worker's thread and changed widgets from there
        self._worker.count_used.connect(self._on_count_used)
        self._worker.model_ready.connect(self._on_model_ready)
        self._worker.model_failed.connect(self._on_model_failed)
        self._worker.result_ready.connect(self._on_result)
        self._worker.block_ready.connect(self._on_block)
        self._worker.group_progress.connect(self._on_group_progress)
        self._worker.job_finished.connect(self._on_job_finished)
        self.views.connect_worker(self._io)
        self._durations_requested.connect(self._io.probe_durations)
        self._io.durations_ready.connect(self._on_durations_ready)
        self.exports.export_requested.connect(self._io.export)
        self.exports.clear_cache_requested.connect(self._io.clear_cache)
        self._io.export_finished.connect(self.exports._on_export_finished)
        self.review_tools.report_requested.connect(self._io.report)
        self._io.report_finished.connect(self.review_tools._on_report_finished)
        self._io.cache_cleared.connect(self.exports._on_cache_cleared)

        self._sizes_restored = False
        self.resize(fitted_size(DEFAULT_SIZE, self.screen().availableGeometry().size()))
        self.restore_state(self._settings)
        self.statusBar().showMessage("Loading model…")
        self._thread.start()
        self._io_thread.start()
        self._load_requested.emit()

    # -- layout -----------------------------------------------------------------------------
    def _build_layout(self, labels):
        left = QSplitter(Qt.Orientation.Vertical, self)
        self._browser_box = titled("Files", self.browser)
        left.addWidget(self._browser_box)
        queue = QWidget(self)
        queue_layout = QVBoxLayout(queue)
        queue_layout.setContentsMargins(0, 0, 0, 0)
        queue_layout.setSpacing(2)
        queue_layout.addWidget(self.queue_filter)
        queue_layout.addWidget(self.table, 1)
        left.addWidget(titled("Queue", queue))
        left.setStretchFactor(0, 2)
        left.setStretchFactor(1, 3)
        left.setMinimumWidth(220)
        self._left = left

        self.signal_view.setToolTip(timeline_help(labels))
        centre = QWidget(self)
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.setSpacing(2)
        self._keys_legend = QLabel(keys_legend(labels), self)
        self._keys_legend.setStyleSheet("color: #555; padding: 0 6px;")
        set_relative_font(self._keys_legend, 0.88)
        self._keys_legend.setWordWrap(True)
        centre_layout.addWidget(self.signal_view, 1)
        centre_layout.addWidget(self._keys_legend)
        centre_layout.addLayout(self.timeline.transport)
        centre.setMinimumWidth(360)
        self._centre = centre

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(centre)
        # the panel scrolls rather than holding the whole window taller than a laptop screen
        panel_scroll = QScrollArea(self)
        panel_scroll.setWidget(self.panel)
        panel_scroll.setWidgetResizable(True)
        panel_scroll.setFrameShape(QFrame.Shape.NoFrame)
        panel_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        panel_scroll.setMinimumWidth(self.panel.minimumSizeHint().width())
        splitter.addWidget(panel_scroll)
        for i, stretch in enumerate(SPLITTER_STRETCH):
            splitter.setStretchFactor(i, stretch)
        splitter.setSizes(DEFAULT_SPLITTER)
        splitter.setChildrenCollapsible(False)
        self._splitter = splitter
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(splitter, "Analyse")
        self.tabs.addTab(self.train_tab, "Train")
        self.setCentralWidget(self.tabs)

    def _build_status_bar(self):
        self._progress = BatchProgressBar(self.session.batch_progress, self)
        self._progress.setMaximumWidth(220)
        self._cancel_button = QToolButton(self)
        self._cancel_button.setText("Cancel")
        self._cancel_button.hide()
        self._summary = QLabel("", self)
        self._model_label = QLabel("Model: loading…", self)
        self._model_label.setStyleSheet("color: #333; padding: 0 6px;")
        for w in (self._summary, self._model_label, self._progress, self._cancel_button):
            self.statusBar().addPermanentWidget(w)

    def _build_analyse_keys(self):
        """0–8 and L act anywhere in the Analyse tab (the timeline, the segment list, the queue),
        not only when the timeline has focus: the panel says "keys 1–8 set it" wherever the
        segment was selected."""
        page = self._splitter
        self.label_actions = []
        for number in range(9):
            a = QAction(f"Your label {number}", page)
            a.setShortcut(QKeySequence(str(number)))
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            a.triggered.connect(lambda _checked=False, n=number: self.timeline.set_label(n))
            page.addAction(a)
            self.label_actions.append(a)
        self.loop_action = QAction("Loop the segment", page)
        self.loop_action.setShortcut(QKeySequence("L"))
        self.loop_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.loop_action.triggered.connect(lambda _checked=False: self.timeline.toggle_loop())
        page.addAction(self.loop_action)
        # S: the selected segment is the next speaker's (built with the Speakers menu); the
        # Review menu's keys and the speed likewise act anywhere in the tab
        for a in (self.next_speaker_action, self.next_uncertain_action, self.previous_uncertain_action,
                  self.split_action, self.merge_action, self.note_action, self.recording_note_action,
                  self.reviewed_action, self.slower_action, self.faster_action):
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            page.addAction(a)
        # the cursor's keys act on the signal view and the transport: the queue and the file
        # browser keep their own Home, End and arrows
        for a in (self.start_action, self.end_action, self.back_action, self.forward_action, self.back_more_action,
                  self.forward_more_action):
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self._centre.addAction(a)

    # -- the queue (tests, bench/ and the self-test use these) ---------------------------------
    def open_paths(self, paths):
        """Files and folders the user opened (File ▸ Open, a drop, the file browser, Open recent,
        the command line): remembered in Open recent, then queued."""
        paths = [str(p) for p in paths]
        self.recent_menu.add(paths)
        return self.add_paths(paths)

    def add_paths(self, paths):
        """Queue files, and the audio files inside folders (walked recursively). Returns how
        many were new. Before the model is ready they wait in the queue."""
        from ser_engine.audio import iter_audio_files

        return len(self.session.add([str(p) for p in iter_audio_files(paths)]))

    def queued_paths(self):
        """Every path in the queue, in the order it was added."""
        return self.session.paths()

    def status_of(self, path):
        return self.session.entry(path).status

    def result_of(self, path):
        """The result of ``path`` (None unless it is done)."""
        return self.session.entry(path).result

    def error_of(self, path):
        return self.session.entry(path).error

    def select_path(self, path):
        self.session.select(path)

    def selected_path(self):
        return self.session.selected

    def shown_view_path(self):
        return self.views.shown_path()

    def is_idle(self):
        return self.session.is_idle()

    def cancel(self, *_):
        self.session.cancel()

    def reanalyse(self, *_):
        """Analysis ▸ Analyse again: cancelled and finished files are analysed again."""
        n = self.session.reanalyse()
        if n == 0:
            self.statusBar().showMessage("Nothing to analyse again: no finished or cancelled file", 4000)

    def clear_queue(self, *_):
        self.session.clear()

    def speaker_baseline(self):
        return self.session.speaker_baseline

    def set_speaker_baseline(self, on):
        self.session.set_speaker_baseline(on)

    def set_speakers(self, count):
        """The number of speakers (1, 2, 3 or "estimate") of the selected recording and of
        what is analysed next (as the Speakers control does)."""
        self.session.set_speakers(count)

    def select_segment(self, index):
        return self.session.select_segment(index)

    def selected_segment_index(self):
        return self.session.segment

    def set_clinician_label(self, number):
        return self.session.set_clinician_label(number)

    def clinician_intervals(self, path=None):
        return self.session.clinician_intervals(path)

    # -- session events -------------------------------------------------------------------------
    def _on_added(self, paths):
        if not self.browser.folder_chosen():
            self.browser.set_folder(Path(paths[0]).parent)
        self._durations_requested.emit(list(paths))
        self._on_entry_changed()
        self._save_queue()

    def _on_entry_changed(self, *_):
        self._summary.setText(self.session.counts_text())

    def _on_removed(self, _path):
        self._on_entry_changed()
        self._save_queue()

    def _save_queue(self, *_):
        """The queue in the settings within :data:`QUEUE_SAVE_DELAY_MS` (a crash or a kill keeps
        it for the next start): a burst of changes (a folder queued, a click through the rows)
        writes once, and nothing is written when the queue and its selection did not change (each
        write of the settings file is a disk flush, which stalled the GUI thread on a busy disk)."""
        self._queue_save_timer.start()

    def _write_queue(self, settings=None):
        self._queue_save_timer.stop()
        state = (self.session.paths(), self.session.selected)
        if state == self._saved_queue and settings is None:
            return
        self._saved_queue = state
        settings = settings if settings is not None else self._settings
        settings.setValue("queue/paths", state[0])
        settings.setValue("queue/selected", state[1])

    def _restore_saved_queue(self, settings):
        paths = settings.value("queue/paths", [])
        if isinstance(paths, str):  # QSettings gives one item as a string
            paths = [paths]
        paths = [str(p) for p in paths or [] if str(p)]
        if not paths:
            return
        there = [p for p in paths if Path(p).is_file()]
        gone = [p for p in paths if p not in there]
        if there:
            self.session.add(there)
            selected = str(settings.value("queue/selected", "") or "")
            if selected in self.session:
                self.session.select(selected)
        if gone:
            names = ", ".join(Path(p).name for p in gone[:3]) + (" …" if len(gone) > 3 else "")
            # said once the restored queue is analysed: the model's and the analysis' messages
            # would replace it at once
            self._restore_note = (f"{len(gone)} recording{'s' * (len(gone) != 1)} of the last session "
                                  f"{'are' if len(gone) != 1 else 'is'} no longer there: {names}")
            self._save_queue()

    def _on_message(self, text, milliseconds):
        self.statusBar().showMessage(text, milliseconds)

    def _on_progress(self):
        self._progress.follow()
        pending = not self._progress.isHidden()
        self.cancel_action.setEnabled(pending or self.session.is_job_running())
        self._cancel_button.setVisible(pending)

    def _on_idle(self):
        self._progress.dismiss()
        self._cancel_button.hide()
        self.cancel_action.setEnabled(False)
        if self._restore_note:
            self.statusBar().showMessage(self._restore_note, RESTORE_NOTE_MS)
            self._restore_note = ""
        self.idle.emit()

    def _on_model_changed(self):
        s = self.session
        if s.model is not None and s.model_state == MODEL_READY:
            info = s.model
            self.setWindowTitle(f"SER Studio — {info.model_id}")
            self._model_label.setText(f"Model: {info.model_id}")
            self._model_label.setToolTip(info.source)
            self.signal_view.setToolTip(timeline_help(info.labels))
            self._keys_legend.setText(keys_legend(info.labels))
            self.card_action.setEnabled(bool(info.card))
        elif s.model_settled():
            self._model_label.setText("Model: none")
            self.card_action.setEnabled(False)
        else:
            self._model_label.setText("Model: loading…")

    def _on_job(self, job):
        self._analyse_requested.emit(job, self._worker.next_job())

    def _on_reference_checked(self, ref, error):
        if self.session.reference_checked(ref, error) or not error:
            return
        self.dialogs.warn("Neutral reference not used",
                          f"{error}\n\nNothing was analysed again: the recordings keep the normalisation they had.")

    def _on_reference_changed(self, *_):
        s = self.session
        e = s.selected_entry()
        can = e is not None and e.status != "error" and s.checking_reference is None
        self.reference_file_action.setEnabled(can)
        self.reference_stretch_action.setEnabled(can and (s.stretch is not None or s.selected_segment() is not None))
        self.reference_clear_action.setEnabled(bool(s.selected) and s.reference_for(s.selected) is not None)

    def _on_review_changed(self, _path=None):
        reviews = self.session.reviews
        for a, word, what in ((self.undo_action, "&Undo", reviews.undo_text()),
                              (self.redo_action, "&Redo", reviews.redo_text())):
            a.setEnabled(bool(what))
            a.setText(f"{word} {what}" if what else word)
        self.reviewed_action.setChecked(self.session.is_reviewed())
        self._save_queue()

    def _on_speakers_changed(self, *_):
        count = self.session.speakers_shown()
        i = SPEAKER_CHOICES.index(count) if count in SPEAKER_CHOICES else 0
        if self.speakers_combo.currentIndex() != i:
            self.speakers_combo.setCurrentIndex(i)
        for action, choice in zip(self.speakers_actions, SPEAKER_CHOICES, strict=True):
            if action.isChecked() != (choice == count):
                action.setChecked(choice == count)
        self._on_reference_changed()

    def _on_speakers_chosen(self, index):
        """The Speakers control or menu: the selected recording's number (re-analysed) and the next ones'."""
        self.session.set_speakers(SPEAKER_CHOICES[index])
        self._on_speakers_changed()

    def _on_undo(self):
        self.session.undo()
        self._on_review_changed()

    def _on_redo(self):
        self.session.redo()
        self._on_review_changed()

    def _on_stop(self):
        self._worker.cancel()

    def _on_baseline_changed(self, on):
        if self.baseline_action.isChecked() != on:
            self.baseline_action.setChecked(on)

    # -- worker events ---------------------------------------------------------------------------
    def _on_model_ready(self, info):
        self.session.set_model_ready(info)

    def _on_model_failed(self, reason):
        self.session.set_model_failed(reason)

    def _on_count_used(self, path, count):
        self.session.count_used(path, count)

    def _on_active_model_changed(self):
        """The Train tab made another model active: load it; labels already given stay as they
        are, each row naming the model that gave it."""
        self.session.set_model_loading()
        self._switch_model_requested.emit(None)

    def _on_block(self, path, update):
        self.session.block_arrived(path, update.fraction, update.new_segments)
        self.analysis_progress.emit(path, update.fraction)

    def _on_result(self, result):
        self.session.result_arrived(result)

    def _on_group_progress(self, done, total):
        self.statusBar().showMessage(f"Analysing speaker group: {done} of {total}…")

    def _on_job_finished(self, paths):
        self.session.job_finished(list(paths))

    def _on_durations_ready(self, durations):
        self.session.set_durations(durations)

    # -- actions --------------------------------------------------------------------------
    def _on_open_files(self):
        from ser_engine.audio import AUDIO_EXTENSIONS

        patterns = " ".join(f"*{e}" for e in AUDIO_EXTENSIONS)
        paths = self.dialogs.open_files("Open recordings", self.browser.folder(),
                                        f"Audio files ({patterns});;All files (*)")
        if paths:
            self.open_paths(paths)

    def _on_open_folder(self):
        folder = self.dialogs.open_folder("Open a folder of recordings", self.browser.folder())
        if folder:
            self.browser.set_folder(folder)
            self.open_paths([folder])

    def _on_recent_chosen(self, path):
        if not Path(path).exists():
            self.statusBar().showMessage(f"{path} is no longer there (removed from Open recent)", 8000)
            return
        if Path(path).is_dir():
            self.browser.set_folder(path)
        self.open_paths([path])

    def _on_baseline_toggled(self, on):
        self.session.set_speaker_baseline(on)

    def _on_browser_toggled(self, on):
        self._browser_box.setVisible(on)

    # -- drag and drop --------------------------------------------------------------------
    def dragEnterEvent(self, event):  # noqa: N802 (Qt's name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event):  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.open_paths(paths)
            event.acceptProposedAction()

    # -- settings and shutdown --------------------------------------------------------------
    def save_state(self, settings):
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/splitter", self._splitter.saveState())
        settings.setValue("window/left_splitter", self._left.saveState())
        settings.setValue("window/browser_visible", self.browser_action.isChecked())
        settings.setValue("analysis/speaker_baseline", self.speaker_baseline())
        settings.setValue("analysis/speakers", str(self.session.speakers))
        self.browser.save_state(settings)
        self.table.save_state(settings)
        self.train_tab.save_state(settings)
        self.signal_view.save_state(settings)
        self.exports.save_state(settings)
        self.timeline.save_state(settings)
        self.queue_filter.save_state(settings)
        self.recent_menu.save_state(settings)
        self.review_tools.save_state(settings)
        self._write_queue(settings)
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
        baseline = _as_bool(settings.value("analysis/speaker_baseline", DEFAULT_BASELINE))
        self.session.set_speaker_baseline(baseline, reanalyse=False)
        self.session.set_speakers(_as_count(settings.value("analysis/speakers", DEFAULT_SPEAKERS)), reanalyse=False)
        self._on_speakers_changed()
        self.browser.restore_state(settings)
        self.table.restore_state(settings)
        self.train_tab.restore_state(settings)
        self.signal_view.restore_state(settings)
        self.exports.restore_state(settings)
        self.timeline.restore_state(settings)
        self.queue_filter.restore_state(settings)
        self.recent_menu.restore_state(settings)
        self.review_tools.restore_state(settings)
        if self._restore_queue:
            self._restore_saved_queue(settings)

    def showEvent(self, event):  # noqa: N802
        super().showEvent(event)
        if not self._sizes_restored:  # sizes given before the first show are scaled down
            self._sizes_restored = True
            self._splitter.setSizes(DEFAULT_SPLITTER)
            QTimer.singleShot(0, lambda: self._splitter.setSizes(_scaled(DEFAULT_SPLITTER, self._splitter.width())))

    def closeEvent(self, event):  # noqa: N802
        self.save_state(self._settings)
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self):
        """Stop the worker threads. Must run before the application object goes away:
        a QThread destroyed while running aborts the process."""
        self.player.release()
        self.train_tab.shutdown()
        self._worker.cancel()
        for thread in (self._thread, self._io_thread):
            if thread.isRunning():
                thread.quit()
                thread.wait()


def _scaled(sizes, total):
    """``sizes`` with the width beyond their sum shared by :data:`SPLITTER_STRETCH`."""
    extra = total - sum(sizes)
    weights = sum(SPLITTER_STRETCH)
    grown = [s + extra * w // weights for s, w in zip(sizes, SPLITTER_STRETCH, strict=True)]
    return [max(220, grown[0]), max(200, grown[1]), grown[2]]


def _as_count(value):
    """A number of speakers read from the settings (the default for anything else)."""
    for choice in SPEAKER_CHOICES:
        if str(value) == str(choice):
            return choice
    return DEFAULT_SPEAKERS


def _as_bool(value):
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)
