"""Small widget helpers shared by the tabs."""

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

#: A first window or dialog never covers more of the screen than this (a 1366×768 laptop too).
MAX_SCREEN_SHARE = 0.96
#: Height kept free for the window's title bar.
TITLE_BAR = 40


def fitted_size(wanted: QSize, available: QSize) -> QSize:
    """``wanted``, made smaller where the screen is (never more than :data:`MAX_SCREEN_SHARE`
    of it, less a title bar)."""
    return QSize(min(wanted.width(), int(available.width() * MAX_SCREEN_SHARE)),
                 min(wanted.height(), int(available.height() * MAX_SCREEN_SHARE) - TITLE_BAR))


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
