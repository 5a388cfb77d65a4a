"""Every question the window asks the user and every box it shows, in one object.

The window and its controllers never call ``QMessageBox``/``QFileDialog`` themselves: they
ask their :class:`Dialogs`, which the window is given (tests pass one that answers as the
test says and records what was asked; nothing branches on the platform plugin).
"""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox, QWidget


class Dialogs:
    """Modal dialogs over ``parent`` (set by the window once it exists)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def confirm(self, title: str, text: str) -> bool:
        """Yes or no (No is the default)."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(self.parent, title, text, buttons.Yes | buttons.No, buttons.No)
        return answer == buttons.Yes

    def inform(self, title: str, text: str) -> None:
        QMessageBox.information(self.parent, title, text)

    def warn(self, title: str, text: str) -> None:
        QMessageBox.warning(self.parent, title, text)

    def about(self, title: str, html: str) -> None:
        QMessageBox.about(self.parent, title, html)

    def ask_text(self, title: str, label: str, text: str = "") -> str | None:
        """A line of text (None when cancelled)."""
        value, ok = QInputDialog.getText(self.parent, title, label, text=text)
        return value if ok else None

    def choose(self, title: str, label: str, options: list[str]) -> int | None:
        """One of ``options`` (its index; None when cancelled)."""
        value, ok = QInputDialog.getItem(self.parent, title, label, options, 0, False)
        return options.index(value) if ok and value in options else None

    def open_files(self, title: str, folder: str, filters: str) -> list[str]:
        paths, _ = QFileDialog.getOpenFileNames(self.parent, title, folder, filters)
        return list(paths)

    def open_folder(self, title: str, folder: str) -> str:
        return QFileDialog.getExistingDirectory(self.parent, title, folder)

    def open_file(self, title: str, folder: str, filters: str) -> str:
        """One existing file ("" when cancelled)."""
        path, _ = QFileDialog.getOpenFileName(self.parent, title, folder, filters)
        return path

    def save_file(self, title: str, path: str, filters: str) -> str:
        """Where to write a file, starting at ``path`` ("" when cancelled; replacing a file is
        asked by the dialog)."""
        chosen, _ = QFileDialog.getSaveFileName(self.parent, title, path, filters)
        return chosen

    def ask_note(self, title: str, label: str, text: str = "") -> str | None:
        """Free text over several lines (None when cancelled; "" when emptied)."""
        value, ok = QInputDialog.getMultiLineText(self.parent, title, label, text)
        return value if ok else None

    def ask_export(self, folder: str, selected: str, *, can_selected: bool) -> tuple[str, str, bool] | None:
        """The export dialog: ``(fmt, destination, whole queue)``, or None when cancelled."""
        from .export_dialog import ExportDialog

        dialog = ExportDialog(folder, selected, can_selected=can_selected, parent=self.parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        fmt, dest, queue = dialog.choice()
        return (fmt, dest, queue) if dest else None

    def show_folder(self, path: str) -> None:
        """Open ``path`` in the desktop's file manager."""
        QDesktopServices.openUrl(QUrl.fromLocalFile(path))
