"""Help ▸ Model card and Help ▸ About of :class:`~desktop.main_window.MainWindow`.

A mixin rather than a helper object, like :mod:`desktop.window_export`: both read the window's
``_model_info`` and use the window as their dialogs' parent, and tests call ``show_model_card``
and ``about_text`` on the window and look at its ``_card_dialog``.

The window provides ``_model_info`` (None until a model is loaded) and ``_card_dialog``.
"""

import platform
import sys

from PySide6.QtWidgets import QDialog, QMessageBox, QTextBrowser, QVBoxLayout


class HelpMixin:
    """The model card and the About box of :class:`MainWindow`."""

    def show_model_card(self):
        if not self._model_info or not self._model_info.get("card"):
            self.statusBar().showMessage("The model card is not available (no model loaded)", 4000)
            return
        if self._card_dialog is None:
            dialog = QDialog(self)
            dialog.setWindowTitle(f"Model card — {self._model_info['model_id']}")
            view = QTextBrowser(dialog)
            view.setOpenExternalLinks(False)
            view.setMarkdown(self._model_info["card"])
            layout = QVBoxLayout(dialog)
            layout.addWidget(view)
            dialog.resize(680, 760)
            dialog.card_view = view
            self._card_dialog = dialog
        self._card_dialog.show()
        self._card_dialog.raise_()

    def about_text(self):
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
        if self._model_info:
            lines += ["", f"Model: {self._model_info['model_id']}, version {self._model_info['version']}",
                      self._model_info.get("source", "")]
        else:
            lines += ["", "Model: not loaded"]
        lines += ["", "No data leaves this computer."]
        return "<br>".join(lines)

    def show_about(self):
        QMessageBox.about(self, "About SER Studio", self.about_text())
