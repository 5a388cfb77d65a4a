"""Live training curves: loss and accuracy per epoch, train (solid) and validation (dashed).

Which line is which is said in a key under the plots, never in a legend inside them: a legend
box covered the curves it explained (the first epochs of every fold lie in its corner).
"""

import html
import logging
import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .widgets import font_points, set_relative_font

logger = logging.getLogger(__name__)

#: One colour per fold (then the final model); members of an ensemble share their fold's colour.
RUN_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
FINAL_COLOUR = "#222222"
STYLE_KEY_COLOUR = "#777777"


class CurvesView(QWidget):
    """Two plots that grow as epochs finish. ``add_epoch(run, log)`` with ``run`` a short name
    ("fold 2", "final") and ``log`` an EpochLog as a dict."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.loss_plot = pg.PlotWidget(self)
        self.acc_plot = pg.PlotWidget(self)
        for plot, title, label in ((self.loss_plot, "Loss", "loss"), (self.acc_plot, "Accuracy", "accuracy")):
            plot.setBackground("w")
            plot.setTitle(title, color="#333", size=font_points(1.1))
            plot.setLabel("bottom", "epoch")
            plot.setLabel("left", label)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMouseEnabled(x=False, y=False)
            plot.setMenuEnabled(False)
        self.acc_plot.setYRange(0, 1)
        self.key = QLabel(self)
        self.key.setTextFormat(Qt.TextFormat.RichText)
        self.key.setWordWrap(True)
        self.key.setStyleSheet("color: #333; padding: 0 6px;")
        set_relative_font(self.key, 0.88)
        plots = QHBoxLayout()
        plots.setContentsMargins(0, 0, 0, 0)
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.acc_plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(plots, 1)
        layout.addWidget(self.key)
        self.setToolTip("Solid: training windows; dashed: validation actors (files). One colour per fold; "
                        "black: the final model.")
        self.clear()

    def clear(self):
        self.loss_plot.clear()
        self.acc_plot.clear()
        self._runs: dict = {}  # run key -> {"data": {name: [xs, ys]}, "items": {name: PlotDataItem}}
        self._update_key()

    def key_text(self):
        """The key under the plots, as plain text."""
        return self.key.text().replace("&nbsp;", " ").replace("&mdash;", "—")

    def _update_key(self):
        styles = (f"<span style='color:{STYLE_KEY_COLOUR}'>&mdash;&mdash;</span> training &nbsp; "
                  f"<span style='color:{STYLE_KEY_COLOUR}'>- - -</span> validation actors")
        runs: dict[str, str] = {}
        for key, entry in self._runs.items():
            runs.setdefault(key.split(".")[0], entry["colour"])
        swatches = " &nbsp; ".join(f"<span style='color:{colour}'>&#9632;</span> {html.escape(name)}"
                                   for name, colour in runs.items())
        self.key.setText(styles + (" &nbsp;·&nbsp; " + swatches if swatches else ""))

    def run_names(self):
        return list(self._runs)

    def points(self, run, series):
        """The (epochs, values) drawn for ``series`` ("loss", "val_loss", "accuracy", "val_accuracy")."""
        xs, ys = self._runs[run]["data"][series]
        return list(xs), list(ys)

    def add_epoch(self, run, log):
        member = int(log.get("member", 0))
        key = run if not member else f"{run}.{member + 1}"
        if key not in self._runs:
            self._runs[key] = self._new_run(key, run, member)
            self._update_key()
        entry = self._runs[key]
        for series in ("loss", "accuracy", "val_loss", "val_accuracy"):
            value = log.get(series)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            xs, ys = entry["data"][series]
            xs.append(int(log["epoch"]))
            ys.append(float(value))
            entry["items"][series].setData(xs, ys)

    def set_histories(self, histories):
        """Draw finished runs at once (``report.json``'s ``history``: name -> list of EpochLog dicts)."""
        self.clear()
        for name, logs in histories.items():
            for log in logs:
                self.add_epoch(name, log)

    def _new_run(self, key, run, member):
        colour = FINAL_COLOUR if run.startswith("final") else RUN_COLOURS[len(
            {k.split(".")[0] for k in self._runs if not k.startswith("final")}) % len(RUN_COLOURS)]
        same_fold = [k for k in self._runs if k.split(".")[0] == run]
        if same_fold:  # another member of the same fold: same colour
            colour = self._runs[same_fold[0]]["colour"]
        items = {}
        for series, plot in (("loss", self.loss_plot), ("val_loss", self.loss_plot),
                             ("accuracy", self.acc_plot), ("val_accuracy", self.acc_plot)):
            style = Qt.PenStyle.DashLine if series.startswith("val") else Qt.PenStyle.SolidLine
            items[series] = plot.plot([], [], pen=pg.mkPen(colour, width=1.6, style=style))
        return {"colour": colour, "items": items,
                "data": {s: ([], []) for s in ("loss", "accuracy", "val_loss", "val_accuracy")}}
