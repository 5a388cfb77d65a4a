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
    label.setStyleSheet("color: #333;")
    set_relative_font(label, bold=True)
    layout.addWidget(label)
    layout.addWidget(widget, 1)
    return box


def set_relative_font(widget, factor: float = 1.0, *, bold: bool | None = None):
    """Give ``widget`` the application's font (the system's size, as the user set it) scaled by
    ``factor`` (and bold or not). Never a size in pixels or points of its own: a larger system
    font makes every text larger."""
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    font = QFont(QApplication.font())
    if font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * factor)
    elif font.pixelSize() > 0:
        font.setPixelSize(max(1, round(font.pixelSize() * factor)))
    if bold is not None:
        font.setBold(bold)
    widget.setFont(font)
    return font


def font_points(factor: float = 1.0) -> str:
    """``"10.5pt"``: the application's font size scaled by ``factor``, for APIs that take a size
    as text (pyqtgraph's titles)."""
    from PySide6.QtGui import QFontInfo
    from PySide6.QtWidgets import QApplication

    font = QApplication.font()
    points = font.pointSizeF() if font.pointSizeF() > 0 else QFontInfo(font).pointSizeF()
    return f"{points * factor:.1f}pt"


def set_fixed_font(widget, factor: float = 1.0):
    """The system's fixed-width font at the application's font size (scaled by ``factor``)."""
    from PySide6.QtGui import QFontDatabase, QFontInfo
    from PySide6.QtWidgets import QApplication

    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    app = QApplication.font()
    points = app.pointSizeF() if app.pointSizeF() > 0 else QFontInfo(app).pointSizeF()
    font.setPointSizeF(points * factor)
    widget.setFont(font)
    return font
