"""Help ▸ Model card (F1) and Help ▸ About, for the model the session uses.

The card follows the session's ``model`` event: after "Use this model" or "Revert" the card
shows the model now in use (before, the first card shown stayed until a restart).
"""

from __future__ import annotations

import platform
import sys

from PySide6.QtCore import QObject, QSize
from PySide6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout, QWidget

from .dialogs import Dialogs
from .session import Session
from .widgets import fitted_size

#: The model card's size, where the screen has room for it.
CARD_SIZE = QSize(680, 760)


class HelpController(QObject):
    """Shows the model card and the About box over ``parent``."""

    def __init__(self, session: Session, dialogs: Dialogs, parent: QWidget):
        super().__init__(parent)
        self._session = session
        self._dialogs = dialogs
        self._parent = parent
        self.card_dialog: QDialog | None = None
        self._card_view: QTextBrowser | None = None
        session.events.model.connect(self._on_model_changed)

    def card_text(self) -> str:
        """The card shown (plain text; "" when none is open)."""
        return self._card_view.toPlainText() if self._card_view is not None else ""

    def show_model_card(self) -> bool:
        model = self._session.model
        if model is None or not model.card:
            self._session.events.message.emit("The model card is not available (no model loaded)", 4000)
            return False
        if self.card_dialog is None:
            dialog = QDialog(self._parent)
            view = QTextBrowser(dialog)
            view.setOpenExternalLinks(False)
            layout = QVBoxLayout(dialog)
            layout.addWidget(view)
            dialog.resize(fitted_size(CARD_SIZE, self._parent.screen().availableGeometry().size()))
            self.card_dialog, self._card_view = dialog, view
        self._fill_card()
        self.card_dialog.show()
        self.card_dialog.raise_()
        return True

    def _fill_card(self) -> None:
        model = self._session.model
        if self.card_dialog is None or self._card_view is None:
            return
        if model is None or not model.card:
            self.card_dialog.hide()
            return
        self.card_dialog.setWindowTitle(f"Model card — {model.model_id}")
        self._card_view.setMarkdown(model.card)

    def _on_model_changed(self) -> None:
        self._fill_card()

    def about_text(self) -> str:
        import pyqtgraph
        import PySide6
        from PySide6.QtCore import qVersion

        import ser_engine

        lines = [f"<b>SER Studio {ser_engine.__version__}</b>",
                 "Offline speech emotion recognition for reviewing recordings.", "",
                 f"Python {platform.python_version()} · Qt {qVersion()} · PySide6 {PySide6.__version__} · "
                 f"pyqtgraph {pyqtgraph.__version__}"]
        for name in ("tensorflow", "keras", "numpy"):
            module = sys.modules.get(name)  # only what is already loaded: About must stay instant
            if module is not None:
                lines[-1] += f" · {name} {getattr(module, '__version__', '?')}"
        model = self._session.model
        if model is not None:
            lines += ["", f"Model: {model.model_id}, version {model.version}", model.source]
        else:
            lines += ["", "Model: not loaded"]
        lines += ["", "No data leaves this computer."]
        return "<br>".join(lines)

    def show_about(self) -> None:
        self._dialogs.about("About SER Studio", self.about_text())
