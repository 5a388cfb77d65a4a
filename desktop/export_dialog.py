"""File ▸ Export…: the selected recording or the whole queue, in the engine's export formats.

:class:`ExportJob` is plain Python (it runs in the I/O worker's thread and writes through
:mod:`ser_engine.exports`, atomically); :class:`ExportDialog` only asks what and where.

Formats (``ser_engine.exports.FORMATS`` plus the queue summary the window always had):

- ``csv``: one row per segment with every probability, the clinician's label, its speaker and
  signal-to-noise ratio, summaries (per speaker too);
- ``json``: the timeline schema (a queue: JSON Lines, one object per file);
- ``audacity``: two label tracks per file (model, clinician);
- ``textgrid``: Praat TextGrid, tiers model / clinician / one per speaker / info;
- ``eaf``: ELAN, tiers model / clinician / one per speaker (its participant), the audio linked;
- ``summary``: one row per file (label, confidence, probabilities, errors) — the queue's CSV.

For a queue the per-file formats (audacity, textgrid, eaf) write into a folder, one file
(two for Audacity) per recording; csv and json write one file for all.
"""

import copy
import dataclasses
import logging
import os
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

logger = logging.getLogger(__name__)

#: (key, what the user reads), in the order offered.
FORMAT_CHOICES = (
    ("csv", "CSV — one row per segment, all probabilities"),
    ("json", "JSON — timeline, clinician tier, summary"),
    ("audacity", "Audacity label tracks (.txt, one per tier)"),
    ("textgrid", "Praat TextGrid (model, clinician and speaker tiers)"),
    ("eaf", "ELAN .eaf (model, clinician and speaker tiers)"),
    ("summary", "Summary CSV — one row per file"),
)
PER_FILE = ("audacity", "textgrid", "eaf")


@dataclasses.dataclass
class ExportItem:
    """One recording of an export, copied from the session on the GUI thread."""

    path: str
    status: str
    duration: float | None = None
    result: Any = None   # a Timeline (None: not analysed)
    review: Any = None   # its clinician Review (a copy), or None
    error: str = ""


@dataclasses.dataclass
class ExportJob:
    """What to write and where (run in the I/O worker: :meth:`run`).

    Attributes
    ----------
    fmt : str
        A key of :data:`FORMAT_CHOICES`.
    dest : Path
        The file; for a queue in a per-file format, the folder.
    items : list of ExportItem
        The selected recording, or every file of the queue in its order.
    labels : tuple of str
    queue : bool
        Several recordings (the whole queue) rather than the selected one.
    """

    fmt: str
    dest: Path
    items: list
    labels: tuple
    queue: bool = False
    written: list = dataclasses.field(default_factory=list)

    @classmethod
    def make(cls, fmt, dest, items, labels, *, queue):
        """A job over ``items`` (:class:`ExportItem`) with copies of their reviews, so the
        clinician may go on correcting while the worker writes."""
        copied = [dataclasses.replace(i, review=copy.deepcopy(i.review)) for i in items]
        return cls(fmt, Path(dest), copied, tuple(labels), queue)

    def _pairs(self):
        """``(timeline, review)`` pairs of the analysed items and Failures of the others that failed."""
        from ser_engine.results import Failure

        out: list[Any] = []
        for i in self.items:
            if i.result is not None:
                out.append((i.result, i.review))
            elif i.error:
                out.append(Failure(i.path, i.error))
        return out

    def run(self):
        """Write the export; raises ExportError / OSError with the file and the reason."""
        from ser_engine.exports import export_timeline, summary_row, write_csv, write_jsonl, write_summary_csv

        if self.fmt == "summary":
            rows = [summary_row(i.path, status=i.status, labels=self.labels, duration=i.duration, result=i.result,
                                review=i.review, error=i.error) for i in self.items]
            self.written = [write_summary_csv(self.dest, rows, self.labels)]
            return self.written
        pairs = self._pairs()
        ok = [p for p in pairs if isinstance(p, tuple)]
        if not self.queue:
            timeline, review = ok[0]
            self.written = export_timeline(timeline, self.dest, self.fmt, review=review)
        elif self.fmt == "csv":
            self.written = [write_csv(self.dest, pairs, self.labels)]
        elif self.fmt == "json":
            self.written = [write_jsonl(self.dest, pairs)]
        else:
            self.dest.mkdir(parents=True, exist_ok=True)
            used: set[str] = set()
            for timeline, review in ok:
                target = self.dest / _unique_name(timeline.path, self.fmt, used)
                self.written += export_timeline(timeline, target, self.fmt, review=review)
        return self.written


def _unique_name(path, fmt, used):
    """``<stem><suffix>``, or with the parent folder's name when two files share a stem."""
    from ser_engine.exports import SUFFIX

    p = Path(path)
    suffix = "" if fmt == "audacity" else SUFFIX[fmt]
    for name in (p.stem, f"{p.parent.name}-{p.stem}"):
        if name not in used:
            used.add(name)
            return name + suffix
    n = 2
    while f"{p.stem}-{n}" in used:
        n += 1
    used.add(f"{p.stem}-{n}")
    return f"{p.stem}-{n}{suffix}"


def existing_targets(fmt, dest, *, queue):
    """The files an export to ``dest`` would replace (a folder export: the files already in it)."""
    dest = Path(dest)
    if queue and fmt in PER_FILE:
        return sorted(p for p in dest.rglob("*") if p.is_file()) if dest.is_dir() else []
    if fmt == "audacity":
        from ser_engine.exports import audacity_paths

        return [p for p in audacity_paths(dest) if p.exists()]
    return [dest] if dest.exists() else []


def default_name(fmt, *, queue, selected):
    """The file (or folder) name offered for an export."""
    if queue:
        return {"csv": "ser-studio-segments.csv", "json": "ser-studio-results.jsonl",
                "summary": "ser-studio-results.csv"}.get(fmt, f"ser-studio-{fmt}")
    from ser_engine.exports import SUFFIX

    stem = Path(selected).stem
    return stem + ("" if fmt == "audacity" else SUFFIX.get(fmt, ".csv"))


class ExportDialog(QDialog):
    """Asks: the selected recording or the queue, the format, the destination (in ``folder``,
    the folder of the last export; see :class:`~desktop.export_controller.ExportController`)."""

    def __init__(self, folder, selected, *, can_selected, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export")
        self._folder = folder
        self._selected = selected
        self._one = QRadioButton(f"Selected recording ({Path(selected).name})" if selected else "Selected recording",
                                 self)
        self._all = QRadioButton("Whole queue (every analysed file)", self)
        self._one.setEnabled(can_selected)
        (self._one if can_selected else self._all).setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self._one)
        group.addButton(self._all)
        self._format = QComboBox(self)
        for key, text in FORMAT_CHOICES:
            self._format.addItem(text, key)
        self._dest = QLineEdit(self)
        browse = QPushButton("Choose…", self)
        browse.clicked.connect(self._on_browse)
        row = QHBoxLayout()
        row.addWidget(self._dest, 1)
        row.addWidget(browse)
        dest = QWidget(self)
        dest.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        self._note = QLabel("", self)
        self._note.setWordWrap(True)
        self._note.setStyleSheet("color: #555;")
        form = QFormLayout()
        form.addRow("What", self._one)
        form.addRow("", self._all)
        form.addRow("Format", self._format)
        form.addRow("Save to", dest)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self._note)
        layout.addWidget(buttons)
        self._format.currentIndexChanged.connect(self._update)
        self._one.toggled.connect(self._update)
        self._update()
        self.resize(560, self.sizeHint().height())

    def choice(self):
        """``(fmt, dest, queue)``."""
        return self._format.currentData(), self._dest.text().strip(), self._all.isChecked()

    def _update(self, *_):
        fmt, _, queue = self.choice()
        if fmt == "summary":
            self._all.setChecked(True)
            queue = True
        self._dest.setText(os.path.join(self._folder, default_name(fmt, queue=queue, selected=self._selected)))
        if queue and fmt in PER_FILE:
            self._note.setText("A folder: one file per recording (Audacity: two, model and clinician).")
        elif fmt == "audacity":
            self._note.setText("Two label tracks: <name>.model.txt and <name>.clinician.txt.")
        else:
            self._note.setText("Each export names the model that made the labels and includes your corrections "
                               "(the summary: how many, which labels, and the corrected dominant emotion).")

    def _on_browse(self):
        fmt, dest, queue = self.choice()
        if queue and fmt in PER_FILE:
            path = QFileDialog.getExistingDirectory(self, "Export into folder", self._folder)
        else:
            path, _ = QFileDialog.getSaveFileName(self, "Export to", dest)
        if path:
            self._dest.setText(path)
