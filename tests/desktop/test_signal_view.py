"""The signal view on its own: the message shown where a file cannot be drawn."""

from desktop.signal_view import SignalView


def test_a_long_reason_wraps_inside_the_plot(qtbot):
    view = SignalView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    reason = "not a readable audio file (" + "a decoder's very long explanation " * 6 + ")"
    view.show_empty(f"Cannot display this file: {reason}")
    qtbot.wait(10)
    text = view._message.textItem
    plot_width = view.wave_plot.getViewBox().width()
    assert text.document().toPlainText().endswith(")")  # nothing cut from the message
    assert 0 < text.boundingRect().width() <= plot_width  # before: one line, wider than the plot
