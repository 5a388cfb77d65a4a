"""Small widget helpers shared by the tabs."""

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


def titled(title, widget):
    """``widget`` under a bold caption, as the panes of both tabs are."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(4, 4, 4, 0)
    layout.setSpacing(2)
    label = QLabel(title)
    label.setStyleSheet("font-weight: 600; color: #333;")
    layout.addWidget(label)
    layout.addWidget(widget, 1)
    return box
