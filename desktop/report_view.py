"""The evaluation report of a training run: figures per mode, per-class recall, and one mode's
confusion heatmap at a time (chosen beside it): two side by side did not fit beside the tables at
1366x768, where the first was squeezed and the second cut off at the widget's edge."""

import logging
import textwrap

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

logger = logging.getLogger(__name__)

#: Pixels beyond the metrics table's columns, so its cells never elide.
TABLE_SLACK = 8
#: A recall column's header wraps at this many characters: a column is half the metrics
#: table's width, and a mode's title ("with speaker baseline (all of the speaker's clips)") is longer.
RECALL_HEADER_CHARS = 24
#: A heatmap's counts and tick names: this share of a cell's width in pixels, within these bounds
#: (a three-digit count in the bounded size is narrower than the cell).
CELL_TEXT = 0.42
MIN_TEXT_PX, MAX_TEXT_PX = 7, 13
METRICS = (("accuracy", "Accuracy", True), ("macro_f1", "Macro-F1", False), ("uar", "UAR", False))


def _pm(stat, pct):
    return f"{stat['mean']:.1%} ± {stat['std']:.1%}" if pct else f"{stat['mean']:.3f} ± {stat['std']:.3f}"


def _table(rows, cols, parent):
    t = QTableWidget(rows, cols, parent)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    t.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    t.verticalHeader().setDefaultSectionSize(22)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    t.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    t.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return t


class ReportView(QWidget):
    """Shows ``report.json`` of a run (see :func:`training.pipeline.run_training`)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headline = QLabel("No report yet: start a run.", self)
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        self.metrics = _table(0, len(METRICS), self)
        self.metrics.setHorizontalHeaderLabels([m[1] for m in METRICS])
        self.recall = _table(0, 0, self)
        self.confusion = pg.GraphicsLayoutWidget(self)
        self.confusion.setBackground("w")
        self.confusion.setMinimumHeight(200)
        self.confusion_mode = QComboBox(self)  # which mode's confusion matrix the heatmap shows
        self.confusion_mode.setToolTip("The confusion matrix shown: rows the true emotion, columns the predicted")
        # as wide as the heatmap, not as its longest mode title (which widened the whole window past 1366 px)
        self.confusion_mode.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.confusion_mode.setMinimumContentsLength(16)
        self.confusion_mode.currentIndexChanged.connect(self._show_confusion)
        self._heatmaps = QWidget(self)
        heatmaps = QVBoxLayout(self._heatmaps)
        heatmaps.setContentsMargins(0, 0, 0, 0)
        heatmaps.addWidget(self.confusion_mode)
        heatmaps.addWidget(self.confusion, 1)
        self._tables = QWidget(self)
        tables = QVBoxLayout(self._tables)
        tables.setContentsMargins(0, 0, 0, 0)
        tables.addWidget(self.metrics)
        tables.addWidget(self.recall, 1)
        row = QHBoxLayout()
        # The tables as wide as the figures' "mean ± std" need (never elided); the heatmaps get the rest.
        row.addWidget(self._tables)
        row.addWidget(self._heatmaps, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.headline)
        layout.addLayout(row, 1)
        self._report = None
        self.clear()

    def clear(self):
        self._report = None
        self.headline.setText("No report yet: choose a folder and start a run.")
        self.metrics.setRowCount(0)
        self.recall.setRowCount(0)
        self.recall.setColumnCount(0)
        self.confusion.clear()
        self._modes = []
        self.confusion_mode.blockSignals(True)
        self.confusion_mode.clear()
        self.confusion_mode.blockSignals(False)
        self.metrics.hide()
        self.recall.hide()
        self._heatmaps.hide()

    def report(self):
        return self._report

    def figures(self):
        """``{mode title: {"accuracy": text, "macro_f1": text, "uar": text}}`` as shown."""
        out = {}
        for r in range(self.metrics.rowCount()):
            title = self.metrics.verticalHeaderItem(r).text()
            out[title] = {key: self.metrics.item(r, c).text() for c, (key, _, _) in enumerate(METRICS)}
        return out

    def show_report(self, report):
        self.clear()
        self._report = report
        ev = report.get("evaluation", {})
        modes = ev.get("modes") or {}
        ds = report.get("dataset", {})
        timing = report.get("timing", {})
        parts = [f"<b>{report.get('model_id', '')}</b> — {ev.get('protocol', '')}; "
                 f"{ds.get('files', '?')} files of {len(ds.get('actors', []))} actors"]
        if report.get("skipped"):
            parts.append(f"{len(report['skipped'])} files skipped (listed on the left)")
        if timing.get("total_seconds") is not None:
            parts.append(f"{timing['total_seconds'] / 60:.1f} min")
        text = "; ".join(parts) + "."
        if not modes:
            self.headline.setText(text + "<br>" + ev.get("note", "No cross-validated evaluation in a quick run."))
            return
        self.headline.setText(text + "<br>Speaker-independent: each fold's test actors were never seen in "
                                     "training. Mean ± standard deviation over folds.")
        self.metrics.setRowCount(len(modes))
        self.metrics.setVerticalHeaderLabels([m["title"] for m in modes.values()])
        for r, res in enumerate(modes.values()):
            for c, (key, _, pct) in enumerate(METRICS):
                item = QTableWidgetItem(_pm(res[key], pct))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.metrics.setItem(r, c, item)
        self.metrics.resizeColumnsToContents()
        self.metrics.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.metrics.setFixedHeight(self.metrics.horizontalHeader().height() + 22 * len(modes) + 4)
        self._tables.setFixedWidth(self.metrics.verticalHeader().sizeHint().width()
                                   + sum(self.metrics.columnWidth(c) for c in range(len(METRICS)))
                                   + 2 * self.metrics.frameWidth() + TABLE_SLACK)
        emotions = list(next(iter(modes.values()))["per_class_recall"])
        self.recall.setColumnCount(len(modes))
        self.recall.setRowCount(len(emotions))
        # wrapped, as the table is as narrow as the figures above it; whole in the tooltip
        for c, m in enumerate(modes.values()):
            head = QTableWidgetItem(textwrap.fill(f"recall, {m['title']}", RECALL_HEADER_CHARS))
            head.setToolTip(f"recall, {m['title']}")
            self.recall.setHorizontalHeaderItem(c, head)
        self.recall.setVerticalHeaderLabels(emotions)
        for c, res in enumerate(modes.values()):
            for r, emo in enumerate(emotions):
                item = QTableWidgetItem(f"{res['per_class_recall'][emo]:.0%}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.recall.setItem(r, c, item)
        self.recall.setMinimumHeight(self.recall.horizontalHeader().height() + 22 * len(emotions) + 4)
        self._modes = [(res, emotions) for res in modes.values()]
        self.confusion_mode.blockSignals(True)
        self.confusion_mode.addItems([f"{res['title']}: {res['accuracy']['mean']:.1%}" for res in modes.values()])
        self.confusion_mode.blockSignals(False)
        self._show_confusion(0)
        self.metrics.show()
        self.recall.show()
        self._heatmaps.show()

    def _show_confusion(self, index):
        """The heatmap of the mode chosen in :attr:`confusion_mode`."""
        self.confusion.clear()
        if 0 <= index < len(self._modes):
            self._heatmap(*self._modes[index])

    def _heatmap(self, res, emotions):
        cm = np.array(res["confusion"], float)
        norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        plot = self.confusion.addPlot(row=0, col=0)
        img = pg.ImageItem(norm.T.astype(np.float32))  # ImageItem's first axis is x (predicted)
        img.setLookupTable(_blues())
        img.setLevels((0, 1))
        plot.addItem(img)
        plot.invertY(True)
        plot.setAspectLocked(True)
        n = len(cm)
        plot.setRange(xRange=(0, n), yRange=(0, n), padding=0.02)
        plot.setMouseEnabled(x=False, y=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        ticks = [(i + 0.5, e[:3]) for i, e in enumerate(emotions)]
        plot.getAxis("bottom").setTicks([ticks])
        plot.getAxis("left").setTicks([ticks])
        plot.setLabel("bottom", "predicted")
        plot.setLabel("left", "true")
        counts = []
        for i in range(len(cm)):
            for j in range(len(cm)):
                t = pg.TextItem(f"{int(cm[i, j])}", color="w" if norm[i, j] > 0.55 else "k", anchor=(0.5, 0.5))
                t.setPos(j + 0.5, i + 0.5)
                plot.addItem(t)
                counts.append(t)
        # the counts and the emotions' names follow the cells' size: at 1366x768 a cell is ~22 px,
        # where three-digit counts filled their cells and the names under the columns ran together
        plot.getViewBox().sigResized.connect(lambda vb: _fit_text(plot, counts))
        _fit_text(plot, counts)


def _fit_text(plot, counts):
    """Font sizes of a heatmap's counts and tick names for its cells' size on screen."""
    px = plot.getViewBox().viewPixelSize()[0]
    if not px or not np.isfinite(px):
        return
    cell = 1.0 / px  # one cell's width in pixels
    font = QFont(plot.getAxis("bottom").style.get("tickFont") or QFont())
    font.setPixelSize(int(np.clip(cell * CELL_TEXT, MIN_TEXT_PX, MAX_TEXT_PX)))
    for t in counts:
        t.setFont(font)
    for name in ("bottom", "left"):
        plot.getAxis(name).setStyle(tickFont=font)


def _blues():
    # white -> dark blue, as the report's matplotlib figure
    t = np.linspace(0, 1, 256)[:, None]
    lo, hi = np.array([247, 251, 255]), np.array([8, 48, 107])
    return (lo + (hi - lo) * t).astype(np.uint8)
