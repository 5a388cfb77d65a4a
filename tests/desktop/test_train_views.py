"""The Train tab's report and curves, read as a user would (no training: a report dict of the
shape ``training.pipeline.run_training`` writes)."""

import numpy as np

EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")


def fake_report():
    rng = np.random.default_rng(0)

    def stat(mean, std):
        return {"mean": mean, "std": std, "folds": [mean] * 5}

    def mode(title, acc):
        cm = rng.integers(0, 30, (8, 8)) + np.eye(8, dtype=int) * 100
        return {"title": title, "accuracy": stat(acc, 0.081), "macro_f1": stat(acc - 0.02, 0.075),
                "uar": stat(acc - 0.01, 0.081), "per_class_recall": {e: 0.5 for e in EMOTIONS},
                "confusion": cm.tolist()}

    return {"model_id": "bench-rebuild-full", "dataset": {"files": 1200, "actors": list(range(1, 21))},
            "timing": {"total_seconds": 853.6},
            "evaluation": {"protocol": "5-fold speaker-independent cross-validation by actor",
                           "modes": {"global": mode("each file alone", 0.543),
                                     "speaker": mode("with speaker baseline (all of the speaker's clips)",
                                                     0.621)}}}


def tab_showing(qtbot, report, width, height):
    """A Train tab of that size showing ``report``."""
    from desktop.train_tab import TrainTab

    tab = TrainTab()
    qtbot.addWidget(tab)
    tab.resize(width, height)
    tab.show()
    tab.report_view.show_report(report)
    qtbot.wait(50)
    return tab


def test_the_report_figures_are_shown_whole_not_elided(qtbot):
    # Seen in a screenshot: "54.3% ± ..." where the table was narrower than its text.
    tab = tab_showing(qtbot, fake_report(), 1500, 900)
    table = tab.report_view.metrics
    metrics = table.fontMetrics()
    shown = table.viewport().width()
    needed = sum(table.columnWidth(c) for c in range(table.columnCount()))
    assert needed <= shown
    for r in range(table.rowCount()):
        for c in range(table.columnCount()):
            assert metrics.horizontalAdvance(table.item(r, c).text()) < table.columnWidth(c)
    tab.shutdown()


def test_the_recall_headers_are_read_whole_at_1920_by_1080(qtbot):
    # Seen in a screenshot: "l, with speaker baseline (all of the speaker's c", cut at both ends.
    tab = tab_showing(qtbot, fake_report(), 1920, 1000)
    table = tab.report_view.recall
    metrics = table.horizontalHeader().fontMetrics()
    for c, title in enumerate(("each file alone", "with speaker baseline (all of the speaker's clips)")):
        head = table.horizontalHeaderItem(c)
        assert " ".join(head.text().split()) == f"recall, {title}" == head.toolTip()
        lines = head.text().splitlines()
        width = table.columnWidth(c)
        assert all(metrics.horizontalAdvance(line) < width for line in lines), (lines, width)
        assert table.horizontalHeader().height() >= len(lines) * metrics.height()
    tab.shutdown()


def test_the_confusion_heatmap_is_whole_and_a_menu_shows_either_mode(qtbot):
    # Seen in screenshots: two heatmaps side by side, the first squeezed to a sliver and the second
    # cut off at the widget's edge (at 1500x940 under a long title; at 1366x768 whatever the title).
    import pyqtgraph as pg

    report = fake_report()
    for width, height in ((1500, 940), (1366, 740)):
        tab = tab_showing(qtbot, report, width, height)
        view = tab.report_view
        menu = view.confusion_mode
        assert [menu.itemText(i) for i in range(menu.count())] == [
            "each file alone: 54.3%", "with speaker baseline (all of the speaker's clips): 62.1%"]
        for index, mode in enumerate(("global", "speaker")):
            menu.setCurrentIndex(index)
            plot = view.confusion.ci.getItem(0, 0)
            assert view.confusion.ci.getItem(0, 1) is None  # one heatmap at a time
            rect = plot.sceneBoundingRect()
            assert rect.right() <= view.confusion.width() + 1 and rect.width() > 150, (width, rect)
            assert menu.minimumSizeHint().width() < 250  # the longest title does not widen the window
            (x0, x1), (y0, y1) = plot.viewRange()
            assert x0 <= 0 and x1 >= 8 and y0 <= 0 and y1 >= 8  # every cell in view
            (image,) = [item for item in plot.items if isinstance(item, pg.ImageItem)]
            cm = np.array(report["evaluation"]["modes"][mode]["confusion"], float)
            np.testing.assert_allclose(image.image, (cm / cm.sum(axis=1, keepdims=True)).T, rtol=1e-6)
        tab.shutdown()


def test_the_curves_say_which_line_is_which_without_covering_them(qtbot):
    from desktop.curves_view import CurvesView

    view = CurvesView()
    qtbot.addWidget(view)
    for _ in range(2):  # also after a new run cleared the plots
        view.add_epoch("fold 1", {"epoch": 1, "loss": 1.9, "accuracy": 0.3, "val_loss": 2.0, "val_accuracy": 0.25})
        view.add_epoch("final", {"epoch": 1, "loss": 1.7, "accuracy": 0.4})
        key = view.key_text()
        assert "training" in key and "validation actors" in key and "fold 1" in key and "final" in key
        # before: legend boxes inside the plots, over the first epochs of every curve
        assert view.loss_plot.getPlotItem().legend is None and view.acc_plot.getPlotItem().legend is None
        view.clear()
        assert "fold 1" not in view.key_text()


def test_the_wheel_scrolls_the_options_and_changes_no_setting(qtbot):
    # Seen under a real X server: scrolling the left column turned "Folds" from 5 to 2.
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    from desktop.train_tab import TrainTab

    tab = TrainTab()
    qtbot.addWidget(tab)
    tab.resize(1300, 500)
    tab.show()
    qtbot.waitExposed(tab)
    before = (tab.folds_spin.value(), tab.epochs_spin.value(), tab.preset_combo.currentIndex())
    for widget in (tab.folds_spin, tab.epochs_spin, tab.preset_combo):
        centre = QPointF(widget.rect().center())
        wheel = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, -120),
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                            False)
        QApplication.sendEvent(widget, wheel)
    assert (tab.folds_spin.value(), tab.epochs_spin.value(), tab.preset_combo.currentIndex()) == before
    tab.folds_spin.setFocus()
    QApplication.processEvents()
    centre = QPointF(tab.folds_spin.rect().center())
    QApplication.sendEvent(tab.folds_spin, QWheelEvent(
        centre, QPointF(tab.folds_spin.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, -120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False))
    assert tab.folds_spin.value() == before[0] - 1  # a field the user clicked into takes the wheel
    tab.shutdown()


def test_the_heatmaps_counts_and_names_fit_their_cells_at_every_size(qtbot):
    # Seen in a screenshot at 1366x768: three-digit counts filled their cells edge to edge and the
    # names under the columns ran together ("hapsadang").
    import pyqtgraph as pg
    from PySide6.QtGui import QFontMetrics

    report = fake_report()
    for width, height in ((1366, 740), (1500, 940), (1920, 1000)):
        tab = tab_showing(qtbot, report, width, height)
        plot = tab.report_view.confusion.ci.getItem(0, 0)
        qtbot.wait(50)
        cell = 1.0 / plot.getViewBox().viewPixelSize()[0]
        counts = [item for item in plot.items if isinstance(item, pg.TextItem)]
        assert len(counts) == 64
        for t in counts:
            metrics = QFontMetrics(t.textItem.font())
            assert metrics.horizontalAdvance(t.toPlainText()) <= 0.8 * cell, (width, t.toPlainText(), cell)
            assert metrics.height() >= 9  # still readable
        tick_font = plot.getAxis("bottom").style["tickFont"]
        names = ("neu", "cal", "hap", "sad", "ang", "fea", "dis", "sur")
        assert max(QFontMetrics(tick_font).horizontalAdvance(n) for n in names) < 0.9 * cell
        tab.shutdown()
