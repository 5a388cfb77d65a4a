"""The Train tab: rebuild the model from a local RAVDESS folder and see how well it does.

Left: the folder and what a run would use from it (files per actor and emotion, every skipped
file with its reason), the options, Start/Cancel with phase and time left, and the active
model with Use / Revert / Open report folder. Right: live curves, the evaluation report, a log.

Training runs in a child process (:mod:`desktop.training_worker`, :mod:`training.job`): the
window never imports TensorFlow and survives a crash of the run. A run writes a new folder
under the user's models folder; it becomes active only on "Use this model". A cancel or a
failure leaves the active model as it was, and the tab says so.

"4. Model" lists the shipped model and every model trained before, with its figures
(:func:`ser_engine.models.list_models`): choosing one shows its report, and "Use this model"
makes it active, after asking when it scores below the model in use or was never evaluated.
"""

import html
import json
import logging
import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from .curves_view import CurvesView
from .dialogs import Dialogs
from .report_view import ReportView
from .training_worker import FolderScanner, TrainingRunner
from .wheel_guard import WheelGuard
from .widgets import set_fixed_font, titled

logger = logging.getLogger(__name__)

LEFT_WIDTH = 400
SUMMARY_LINES = 6  # a scanned folder: files, emotions, actors (wrapped), skipped
MAX_SKIPPED_SHOWN = 200
DEFAULT_SPLITTER = [300, 420, 140]
#: What the scheduler field accepts before a run is started (the run checks the address fully,
#: with Dask's own parser, and ends in one line when no scheduler answers there).
SCHEDULER_ADDRESS = re.compile(r"^(tcp|tls)://(\[[0-9a-fA-F:]+\]|[\w.-]+):\d{1,5}$")
IDLE, SCANNING, READY, RUNNING = "idle", "scanning", "ready", "running"
_OK, _WARN, _BAD = "#1b7a3a", "#8a6d00", "#842029"


def _coloured(text, colour):
    return f'<span style="color:{colour}">{text}</span>'


class _SummaryBrowser(QTextBrowser):
    """The folder's summary, asking for :data:`SUMMARY_LINES` lines: the left column scrolls, and
    a scroll area with word-wrapped labels in it gives each widget the height it asks for, so
    the default 192 px pushed the Start button and the run's progress below a 768-pixel screen.
    It still grows with a taller window."""

    def sizeHint(self):  # noqa: N802 (Qt's name)
        hint = super().sizeHint()
        return QSize(hint.width(), self.fontMetrics().lineSpacing() * SUMMARY_LINES + 2 * self.frameWidth() + 8)


class TrainTab(QWidget):
    active_model_changed = Signal()      # "Use this model" or "Revert" changed the active pointer
    folder_scanned = Signal(bool)        # the summary is shown; True if a run can start
    run_finished = Signal(str)           # "ok" | "cancelled" | "failed"

    def __init__(self, parent=None, *, models_root=None, cache_root=None, dialogs=None):
        super().__init__(parent)
        self._dialogs = dialogs if dialogs is not None else Dialogs(self)
        self._models: list = []          # ser_engine.models.StoredModel, as listed in models_combo
        self._start_warning = False      # the status line says why Start is off
        from training.presets import DEFAULT_PRESET, PRESETS

        self._presets = PRESETS
        self._models_root = models_root
        self._cache_root = cache_root
        self._state = IDLE
        self._summary = None
        self._folder = ""
        self._eta: Any = None            # training.progress.TrainingEta of the run
        self._last_run: Any = None       # {"bundle", "report_dir", "report"} of the last finished run
        self._cache_noted = False
        self._last_features = None
        self._cache_note = ""            # "3600 of 3600 feature sets from the cache" once known
        #: TrainConfig fields not on the form (tests use a tiny network); empty for users.
        self.extra_overrides = {}
        #: run_training arguments not on the form (tests that do not read the LiteRT copy skip it:
        #: {"litert": False}); empty for users.
        self.extra_params: dict[str, Any] = {}

        # -- folder and summary ----------------------------------------------------------------
        self.folder_edit = QLineEdit(self)
        self.folder_edit.setPlaceholderText("RAVDESS speech folder (e.g. Audio_Speech_Actors_01-24)")
        self.folder_edit.returnPressed.connect(lambda: self.set_folder(self.folder_edit.text()))
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._on_browse)
        self.summary_view = _SummaryBrowser(self)
        self.summary_view.setOpenLinks(False)
        self.summary_view.setHtml(self._hint())
        folder_box = QGroupBox("1. Training data", self)
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        fl = QVBoxLayout(folder_box)
        fl.addLayout(row)
        fl.addWidget(self.summary_view, 1)

        # -- options ----------------------------------------------------------------------------
        self.preset_combo = QComboBox(self)
        for key, preset in PRESETS.items():
            self.preset_combo.addItem(preset.title, key)
        self.preset_note = QLabel(self)
        self.preset_note.setWordWrap(True)
        self.preset_note.setStyleSheet("color: #555;")
        self.epochs_spin = QSpinBox(self)
        self.epochs_spin.setRange(1, 300)
        self.epochs_spin.setToolTip("Upper bound per model; early stopping on validation actors decides")
        self.folds_spin = QSpinBox(self)
        self.folds_spin.setRange(2, 10)
        self.folds_spin.setToolTip("Speaker-independent folds: each fold's actors are tested on a model "
                                   "that never heard them")
        # advanced: the fits and the feature extraction on a running Dask cluster (training.distributed)
        self.scheduler_edit = QLineEdit(self)
        self.scheduler_edit.setPlaceholderText("empty: this computer")
        self.scheduler_edit.setToolTip(
            "Advanced: the address of a running Dask scheduler (tcp://HOST:PORT). Its workers extract the "
            "features and train the models, and must read the training folder at the same path. Empty: "
            "everything runs on this computer, and nothing opens a network connection.")
        self.scheduler_edit.textChanged.connect(lambda *_: self._update_buttons())
        options_box = QGroupBox("2. Options", self)
        form = QFormLayout(options_box)
        form.addRow("Run", self.preset_combo)
        form.addRow(self.preset_note)
        form.addRow("Epochs (at most)", self.epochs_spin)
        form.addRow("Folds", self.folds_spin)
        form.addRow("Dask scheduler", self.scheduler_edit)
        self.preset_combo.currentIndexChanged.connect(self._on_preset_changed)
        self.folds_spin.valueChanged.connect(lambda *_: self._update_buttons())

        # -- run ----------------------------------------------------------------------------------
        self.start_button = QPushButton("Start", self)
        self.start_button.setStyleSheet("font-weight: 600;")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.phase_label = QLabel("Not running", self)
        self.phase_label.setWordWrap(True)
        self.eta_label = QLabel("", self)
        self.status_label = QLabel("", self)
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.RichText)
        run_box = QGroupBox("3. Train", self)
        rl = QVBoxLayout(run_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button, 1)
        buttons.addWidget(self.cancel_button)
        rl.addLayout(buttons)
        rl.addWidget(self.progress)
        rl.addWidget(self.phase_label)
        rl.addWidget(self.eta_label)
        rl.addWidget(self.status_label)

        # -- model ----------------------------------------------------------------------------------
        self.active_label = QLabel(self)
        self.active_label.setWordWrap(True)
        self.active_label.setTextFormat(Qt.TextFormat.RichText)
        self.models_combo = QComboBox(self)
        self.models_combo.setToolTip("The shipped model and every model trained here, with their speaker-"
                                     "independent accuracy; choose one to see its report")
        self.models_combo.currentIndexChanged.connect(self._on_model_chosen)
        self._wheel_guard = WheelGuard(self)
        self._wheel_guard.guard(self.preset_combo, self.epochs_spin, self.folds_spin, self.models_combo)
        self.use_button = QPushButton("Use this model", self)
        self.use_button.setToolTip("Make the chosen model the one the Analyse tab uses (kept across restarts)")
        self.use_button.clicked.connect(self.use_model)
        self.revert_button = QPushButton("Revert to the shipped model", self)
        self.revert_button.clicked.connect(self.revert_model)
        self.open_report_button = QPushButton("Open report folder", self)
        self.open_report_button.clicked.connect(self.open_report_folder)
        model_box = QGroupBox("4. Model", self)
        ml = QVBoxLayout(model_box)
        ml.addWidget(self.active_label)
        ml.addWidget(self.models_combo)
        mb = QHBoxLayout()
        mb.addWidget(self.use_button)
        mb.addWidget(self.open_report_button)
        ml.addLayout(mb)
        ml.addWidget(self.revert_button)

        left = QWidget(self)
        left.setFixedWidth(LEFT_WIDTH)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(4, 4, 4, 4)
        ll.addWidget(folder_box, 1)
        ll.addWidget(options_box)
        ll.addWidget(run_box)
        ll.addWidget(model_box)

        # -- right: curves, report, log -----------------------------------------------------------------
        self.curves = CurvesView(self)
        self.report_view = ReportView(self)
        self.log_view = QPlainTextEdit(self)
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(5000)
        set_fixed_font(self.log_view, 0.95)
        right = QSplitter(Qt.Orientation.Vertical, self)
        right.addWidget(titled("Training curves", self.curves))
        right.addWidget(titled("Evaluation report", self.report_view))
        right.addWidget(titled("Log", self.log_view))
        right.setSizes(DEFAULT_SPLITTER)
        right.setChildrenCollapsible(False)
        self._right = right

        # The left column scrolls rather than setting a minimum height for the whole window.
        scroll = QScrollArea(self)
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(LEFT_WIDTH + scroll.verticalScrollBar().sizeHint().width())
        self._left_scroll = scroll
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        layout.addWidget(right, 1)

        # -- workers ------------------------------------------------------------------------------------
        self._scanner = FolderScanner(self)
        self._scanner.scanned.connect(self._on_scanned)
        self._runner = TrainingRunner(self)
        self._runner.progress.connect(self._on_event)
        self._runner.finished.connect(self._on_finished)

        self.preset_combo.setCurrentIndex(list(PRESETS).index(DEFAULT_PRESET))
        self._on_preset_changed()
        self.refresh_active()
        self._update_buttons()

    # -- public --------------------------------------------------------------------------------------
    def state(self):
        return self._state

    def is_running(self):
        return self._state == RUNNING

    def summary(self):
        """The scanned folder's summary dict (None before a scan or for an unusable folder)."""
        return self._summary

    def summary_text(self):
        return self.summary_view.toPlainText()

    def last_run(self):
        return self._last_run

    def set_folder(self, folder):
        """Scan ``folder`` (off the GUI thread); the summary appears when done."""
        folder = str(folder).strip()
        if not folder or self.is_running():
            return
        self._folder = folder
        self.folder_edit.setText(folder)
        self._summary = None
        self._state = SCANNING
        self.summary_view.setHtml(f"Reading {html.escape(folder)}…")
        self._update_buttons()
        self._scanner.scan(folder)

    def set_preset(self, key):
        self.preset_combo.setCurrentIndex(self.preset_combo.findData(key))

    def start(self):
        """Start a run with the form's settings (no-op unless a usable folder is shown)."""
        if self._state != READY or not self._can_start()[0]:
            return False
        from training.job import new_run_dir

        key = self.preset_combo.currentData()
        overrides = {"epochs": self.epochs_spin.value(), **self.extra_overrides}
        if key != "quick":
            overrides["folds"] = self.folds_spin.value()
        out_dir = new_run_dir(key, self._models_root)
        params = {"data_dir": self._folder, "out_dir": str(out_dir), "preset": key, "overrides": overrides,
                  "cache_root": str(self._cache_root) if self._cache_root else None}
        if self.scheduler():
            params["scheduler"] = self.scheduler()
        params.update(self.extra_params)
        from training.progress import TrainingEta

        self._eta = TrainingEta({**self._presets[key].config(**overrides).to_dict()})
        self._cache_noted = False
        self._last_features = None
        self._cache_note = ""
        self.curves.clear()
        self.report_view.clear()
        self.log_view.clear()
        where = f"on the Dask cluster at {self.scheduler()}" if self.scheduler() else "on this computer"
        self._log(f"Run: {self._presets[key].title}, {overrides}, {where}; output {out_dir}")
        self.status_label.setText("")
        self.progress.setValue(0)
        self._state = RUNNING
        self._update_buttons()
        self._runner.start(params)
        return True

    def scheduler(self) -> str:
        """The Dask scheduler's address the next run trains on ("" : this computer)."""
        return self.scheduler_edit.text().strip()

    def cancel(self):
        if self.is_running():
            self.phase_label.setText("Cancelling…")
            self.cancel_button.setEnabled(False)
            self._runner.cancel()

    def chosen_model(self):
        """The :class:`~ser_engine.models.StoredModel` chosen in the list (None: none)."""
        i = self.models_combo.currentIndex()
        return self._models[i] if 0 <= i < len(self._models) else None

    def choose_model(self, bundle_dir):
        """Choose the model in ``bundle_dir`` in the list (as a click would)."""
        for i, m in enumerate(self._models):
            if m.bundle_dir.resolve() == Path(bundle_dir).resolve():
                self.models_combo.setCurrentIndex(i)
                return True
        return False

    def use_model(self):
        """Make the chosen model the active one (verified first). A model that scores below the
        one in use, or was never evaluated, is used only if the user agrees."""
        from ser_engine.errors import ModelLoadError
        from ser_engine.models import reset_active, set_active

        chosen = self.chosen_model()
        if chosen is None or chosen.active:
            return False
        question = self._worse_than_active(chosen)
        if question and not self._dialogs.confirm("Use this model?", question):
            self._set_status("The active model is unchanged.", _OK)
            return False
        try:
            if chosen.shipped:
                reset_active()
            else:
                set_active(chosen.bundle_dir)
        except ModelLoadError as exc:
            self._set_status(f"This model cannot be used: {html.escape(str(exc))}", _BAD)
            return False
        self.refresh_active()
        self._set_status(f"{html.escape(chosen.model_id)} is active: the Analyse tab uses it from now on "
                         "(and after a restart).", _OK)
        self.active_model_changed.emit()
        return True

    def _worse_than_active(self, chosen):
        """The question to ask before using ``chosen`` ("" when there is none to ask)."""
        active = next((m for m in self._models if m.active), None)
        if chosen.accuracy_alone is None:
            return (f"{chosen.model_id} was not evaluated (a quick check): how well it labels speakers it "
                    "never heard is unknown. Use it anyway?")
        if active is None or active.accuracy_alone is None or chosen.accuracy_alone >= active.accuracy_alone:
            return ""
        return (f"{chosen.model_id} scores {chosen.figures_text()} on speakers it never heard; the model in use, "
                f"{active.model_id}, scores {active.figures_text()}.\n\nUse the weaker model anyway?")

    def revert_model(self):
        from ser_engine.models import reset_active

        reset_active()
        self.refresh_active()
        self._set_status("Back to the shipped model.", _OK)
        self.active_model_changed.emit()

    def open_report_folder(self):
        if self._last_run:
            self._dialogs.show_folder(self._last_run["report_dir"])

    def refresh_models(self, *, choose_active=False):
        """List the models again, keeping the one chosen (the active one with ``choose_active``,
        or when none was chosen)."""
        from ser_engine.models import list_models

        chosen = None if choose_active else self.chosen_model()
        self._models = list_models(self._models_root)
        self.models_combo.blockSignals(True)
        self.models_combo.clear()
        for m in self._models:
            what = "shipped" if m.shipped else m.bundle_dir.parent.name
            self.models_combo.addItem(f"{m.model_id} — {m.figures_text()} ({what}{', in use' if m.active else ''})")
        index = 0
        if chosen is not None:
            index = next((i for i, m in enumerate(self._models) if m.bundle_dir == chosen.bundle_dir), 0)
        elif any(m.active for m in self._models):
            index = next(i for i, m in enumerate(self._models) if m.active)
        self.models_combo.setCurrentIndex(index)
        self.models_combo.blockSignals(False)

    def _on_model_chosen(self, _index):
        chosen = self.chosen_model()
        if chosen is not None and chosen.report_path is not None and not self.is_running():
            try:
                self.show_finished_run(chosen.run_dir, chosen.bundle_dir)
            except (OSError, ValueError) as exc:
                self._set_status(f"The report of {html.escape(chosen.model_id)} cannot be read: "
                                 f"{html.escape(str(exc))}", _BAD)
        self._update_buttons()

    def refresh_active(self):
        """Show which model the Analyse tab uses."""
        from ser_engine.errors import SerError
        from ser_engine.models import active_choice, resolve_bundle

        try:
            bundle, warning = resolve_bundle()
            source = "your model" if active_choice() is not None and not warning else "the shipped model"
            text = f"Active: <b>{html.escape(bundle.model_id)}</b> ({source})"
            if warning:
                text += "<br>" + _coloured(html.escape(warning), _WARN)
        except SerError as exc:
            text = _coloured(f"No usable model: {html.escape(str(exc))}", _BAD)
        self.active_label.setText(text)
        self.refresh_models(choose_active=True)  # the active model changed: "Use" starts from it
        self._update_buttons()

    def show_finished_run(self, report_dir, bundle_dir=None):
        """Show a finished run's report and curves (also used for a run found on disk)."""
        report_dir = Path(report_dir)
        report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
        self._last_run = {"bundle": str(bundle_dir or report_dir / "model"), "report_dir": str(report_dir),
                          "report": report}
        self.report_view.show_report(report)
        if not self.curves.run_names():
            self.curves.set_histories(report.get("history", {}))
        self._update_buttons()

    def shutdown(self):
        """Stop a running training (the window is closing) and wait for a scan."""
        self._runner.shutdown()
        self._scanner.wait()

    # -- settings -------------------------------------------------------------------------------------
    def save_state(self, settings: QSettings):
        settings.setValue("train/folder", self._folder)
        settings.setValue("train/preset", self.preset_combo.currentData())
        settings.setValue("train/scheduler", self.scheduler())
        settings.setValue("train/splitter", self._right.saveState())

    def restore_state(self, settings: QSettings):
        key = settings.value("train/preset", "")
        if key in self._presets:
            self.set_preset(key)
        self.scheduler_edit.setText(str(settings.value("train/scheduler", "") or ""))
        state = settings.value("train/splitter")
        if state is not None and hasattr(state, "isEmpty") and not state.isEmpty():
            self._right.restoreState(state)
        folder = str(settings.value("train/folder", "") or "")
        if folder and Path(folder).is_dir():
            self.set_folder(folder)

    # -- folder -----------------------------------------------------------------------------------------
    def _on_browse(self):
        folder = self._dialogs.open_folder("Choose a RAVDESS speech folder", self._folder or str(Path.home()))
        if folder:
            self.set_folder(folder)

    def _on_scanned(self, folder, summary, error):
        if folder != self._folder:
            return  # an older scan
        self._state = IDLE if summary is None else READY
        self._summary = summary
        if summary is None:
            self.summary_view.setHtml(
                _coloured("<b>This folder cannot be used for training.</b>", _BAD) + "<br>"
                + html.escape(error) + "<br><br>" + self._hint())
        else:
            self.summary_view.setHtml(self._summary_html(summary))
        self._update_buttons()
        self.folder_scanned.emit(summary is not None)

    @staticmethod
    def _hint():
        return ("Choose the folder of your RAVDESS download (the speech part, "
                "<i>Audio_Speech_Actors_01-24</i>) or any folder of RAVDESS-named speech files "
                "(e.g. <i>03-01-05-01-02-01-12.wav</i>), nested in any way.")

    @staticmethod
    def _summary_html(s):
        from ser_engine import EMOTIONS

        minutes = s["seconds"] / 60
        rates = ", ".join(f"{n} at {r / 1000:g} kHz" for r, n in s["sample_rates"].items())
        parts = [f"<b>{s['files']} files</b> of <b>{len(s['actors'])} actors</b>, {minutes:.1f} min of speech "
                 f"({rates}).",
                 "<b>Per emotion:</b> " + " · ".join(f"{e} {s['per_emotion'][e]}" for e in EMOTIONS),
                 "<b>Per actor:</b> " + " · ".join(f"{a}: {n}" for a, n in s["per_actor"].items())]
        skipped = s.get("skipped_files", [])
        if skipped:
            rows = "".join(f"<li>{html.escape(Path(x['path']).name)} — {html.escape(x['reason'])}</li>"
                           for x in skipped[:MAX_SKIPPED_SHOWN])
            more = (f"<li>… and {len(skipped) - MAX_SKIPPED_SHOWN} more (all in the report)</li>"
                    if len(skipped) > MAX_SKIPPED_SHOWN else "")
            parts.append(_coloured(f"<b>Skipped: {len(skipped)} file{'s' * (len(skipped) != 1)}</b>", _WARN)
                         + f"<ul style='margin-left:-20px'>{rows}{more}</ul>")
        else:
            parts.append(_coloured("Nothing skipped.", _OK))
        return "<br>".join(parts)

    # -- options ----------------------------------------------------------------------------------------
    def _on_preset_changed(self, *_):
        key = self.preset_combo.currentData()
        if key is None:
            return
        preset = self._presets[key]
        cfg = preset.config()
        self.preset_note.setText(preset.description)
        self.epochs_spin.setValue(cfg.epochs)
        quick = cfg.folds == 0
        if not quick:
            self.folds_spin.setValue(cfg.folds)
        self.folds_spin.setEnabled(not quick and not self.is_running())
        self._update_buttons()

    def _can_start(self):
        if self._summary is None:
            return False, ""
        if self.scheduler() and not SCHEDULER_ADDRESS.match(self.scheduler()):
            return False, (f"{self.scheduler()}: not a Dask scheduler address like tcp://HOST:PORT (leave it "
                           "empty to train on this computer)")
        key = self.preset_combo.currentData()
        actors = len(self._summary["actors"])
        if key != "quick":
            need = max(self.folds_spin.value(), 3)
            if actors < need:
                return False, (f"{self.folds_spin.value()}-fold evaluation needs at least {need} actors; this "
                               f"folder has {actors}. Use fewer folds or a quick check.")
        return True, ""

    def _update_buttons(self):
        running = self.is_running()
        ok, why = self._can_start()
        self.start_button.setEnabled(self._state == READY and ok)
        self.start_button.setToolTip(why)
        if self._state == READY and not ok:
            self._set_status(html.escape(why), _WARN)
            self._start_warning = True
        elif self._start_warning:  # the reason is gone (a quick check needs no folds): so is the warning
            self._set_status("", _OK)
        self.cancel_button.setEnabled(running)
        for w in (self.folder_edit, self.preset_combo, self.epochs_spin, self.scheduler_edit):
            w.setEnabled(not running)
        self.folds_spin.setEnabled(not running and self.preset_combo.currentData() != "quick")
        from ser_engine.models import active_choice

        chosen = self.chosen_model()
        self.use_button.setEnabled(chosen is not None and not chosen.active and not running)
        self.open_report_button.setEnabled(bool(self._last_run))
        self.revert_button.setEnabled(active_choice() is not None and not running)

    # -- run events -------------------------------------------------------------------------------------
    def _on_event(self, event):
        from training.progress import format_duration

        phase = event.get("phase")
        self._eta.update(event)
        if phase == "features":
            self._last_features = event
        elif self._last_features is not None and not self._cache_noted:
            self._note_cache(self._last_features)
        if phase in ("fold", "final") and "epoch" in event:
            log = event["epoch"]
            run = f"fold {event['fold']}" if phase == "fold" else "final"
            self.curves.add_epoch(run, log)
            val = (f", val loss {log['val_loss']:.3f}, val acc {log['val_accuracy']:.2f}"
                   if log.get("val_loss") == log.get("val_loss") else "")
            member = f" model {log['member'] + 1}" if log.get("member") else ""
            self._log(f"{run}{member} epoch {log['epoch']}: loss {log['loss']:.3f}, acc {log['accuracy']:.2f}{val} "
                      f"({log['seconds']:.1f} s)")
        elif phase == "scan" and "dataset" in event:
            d = event["dataset"]
            self._log(f"Found {d['files']} files of {len(d['actors'])} actors; {d['skipped']} skipped by name.")
        elif phase == "start":
            self._log("Training process started.")
        if "message" in event:
            self._log(event["message"])
        self.phase_label.setText(self._eta.phase_text)
        left = self._eta.remaining()
        if left is None:
            self.eta_label.setText("Time left: measuring…")
        elif self._eta.scope() == "phase":
            self.eta_label.setText(f"Extraction: about {format_duration(left)} left")
        else:
            bound = "at most" if self._eta.is_upper_bound() else "about"
            self.eta_label.setText(f"Time left: {bound} {format_duration(left)}")
        self.progress.setValue(int(1000 * self._eta.fraction()))

    def _note_cache(self, event):
        # Once extraction is over: the pipeline's last features event has the run's cache hits.
        self._cache_noted = True
        cached, total = event["cached"], event["total"]
        if cached:
            self._cache_note = f"{cached} of {total} feature sets from the cache"
            self._log(f"{cached} of {total} feature sets come from the cache (this data was seen before): "
                      "they were not extracted again.")
            self._set_status(f"Reused the feature cache: {cached} of {total} feature sets needed no extraction.",
                             _OK)
        else:
            self._log(f"{total} feature sets extracted (now cached: a re-run on this folder skips this step).")

    def _on_finished(self, event):
        from ser_engine.models import resolve_bundle

        status = event.get("status")
        self._state = READY if self._summary is not None else IDLE
        self.eta_label.setText("")
        try:
            active = resolve_bundle()[0].model_id
        except Exception:
            active = "?"
        if status == "ok":
            self.progress.setValue(1000)
            self.phase_label.setText(f"Finished in {event.get('seconds', 0) / 60:.1f} min")
            self._log(f"Finished: model {event['bundle']}")
            try:
                self.show_finished_run(event["report_dir"], event["bundle"])
            except (OSError, ValueError) as exc:
                self._set_status(f"The run finished but its report cannot be read: {html.escape(str(exc))}", _BAD)
            else:
                self.refresh_models()
                self.choose_model(event["bundle"])  # "Use this model" applies to the new one
                skipped = len(self._last_run["report"].get("skipped", []))
                for s in self._last_run["report"].get("skipped", []):
                    self._log(f"skipped {s['path']}: {s['reason']}")
                # The cache note stays in the final line: it is why a re-run was faster.
                cache = f"; {self._cache_note}" if self._cache_note else ""
                self._set_status(
                    f"New model ready ({skipped} file{'s' * (skipped != 1)} skipped{cache}). "
                    "It is <b>not active yet</b>: "
                    f"the Analyse tab still uses {html.escape(active)} until you press <i>Use this model</i>.", _OK)
        else:
            self.progress.setValue(0)
            what = "Cancelled" if status == "cancelled" else "Training failed"
            self.phase_label.setText(what)
            self._log(f"{what}: {event.get('message', '')}")
            reason = "" if status == "cancelled" else f": {html.escape(event.get('message', ''))}"
            written = " Nothing was written." if status == "cancelled" else ""
            self._set_status(f"{what}{reason}.{written} The active model is unchanged ({html.escape(active)}).",
                             _WARN if status == "cancelled" else _BAD)
        self._update_buttons()
        self.run_finished.emit(status)

    def _set_status(self, text, colour):
        self._start_warning = False
        self.status_label.setText(_coloured(text, colour) if text else "")

    def _log(self, line):
        self.log_view.appendPlainText(line)

