"""Spin boxes and combo boxes in a scrolling column ignore the mouse wheel until clicked.

Scrolling the Train tab's left column with the wheel once changed "Folds" from 5 to 2 as the
pointer passed over it, without a word. A guarded field takes the wheel only when it has the
keyboard focus (a click or Tab gives it); otherwise the wheel scrolls the column.
"""

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QWidget


class WheelGuard(QObject):
    """An event filter: wheel events reach a guarded widget only while it has the focus."""

    def guard(self, *widgets: QWidget) -> None:
        for w in widgets:
            w.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # not WheelFocus: the wheel must not take focus
            w.installEventFilter(self)

    def eventFilter(self, watched, event):  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()  # the scroll area behind scrolls instead
            return True
        return super().eventFilter(watched, event)
