"""Live training curves: loss and accuracy per epoch, train (solid) and validation (dashed)."""

import logging
import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget

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
            plot.setTitle(title, color="#333", size="10pt")
            plot.setLabel("bottom", "epoch")
            plot.setLabel("left", label)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMouseEnabled(x=False, y=False)
            plot.setMenuEnabled(False)
        self.acc_plot.setYRange(0, 1)
        self._legend = self.loss_plot.addLegend(offset=(-8, 8), labelTextSize="8pt")
        # Which line is which, without hovering: a key for the two line styles on the accuracy plot.
        self._style_legend = self.acc_plot.addLegend(offset=(-8, -8), labelTextSize="8pt")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.acc_plot)
        self.setToolTip("Solid: training windows; dashed: validation actors (files). One colour per fold; "
                        "black: the final model.")
        self.clear()

    def clear(self):
        self.loss_plot.clear()
        self.acc_plot.clear()
        if self._legend is not None:
            self._legend.clear()
        self._style_legend.clear()
        for label, style in (("training", Qt.SolidLine), ("validation actors", Qt.DashLine)):
            key = pg.PlotDataItem([], [], pen=pg.mkPen(STYLE_KEY_COLOUR, width=1.6, style=style))
            self._style_legend.addItem(key, label)
        self._runs = {}  # run key -> {"data": {name: [xs, ys]}, "items": {name: PlotDataItem}}

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
            style = Qt.DashLine if series.startswith("val") else Qt.SolidLine
            name = run if series == "loss" and not member else None  # dashed = validation: in the tooltip
            items[series] = plot.plot([], [], pen=pg.mkPen(colour, width=1.6, style=style), name=name)
        return {"colour": colour, "items": items,
                "data": {s: ([], []) for s in ("loss", "accuracy", "val_loss", "val_accuracy")}}
