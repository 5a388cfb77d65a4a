"""File ▸ Export… and File ▸ Clear cache… of :class:`~desktop.main_window.MainWindow`: what to
write is gathered here on the GUI thread, the writing and the deleting happen in the I/O worker
(:class:`~desktop.io_worker.IOWorker`), which answers by signals.

A mixin rather than a helper object: the export reads the window's queue, selection and partial
results, both commands ask through ``confirm`` (which tests replace on the window), and tests call
``export``, ``export_csv`` and ``_on_clear_cache`` on the window. A separate object would reach
into the window on nearly every line and need a forwarding method on it for each of those.

The window provides ``browser``, ``reviews``, ``train_tab``, ``_queue``, ``_selected``,
``_partial``, ``_model_info``, ``_labels()``, the requests ``_export_requested``,
``_export_job_requested`` and ``_clear_cache_requested`` (connected to the I/O worker) and the
signals ``export_finished`` and ``cache_cleared``.
"""

import os
from pathlib import Path

from PySide6.QtWidgets import QDialog, QMessageBox

from .export_dialog import ExportDialog, ExportJob, existing_targets
from .queue_model import DONE, ERROR


class ExportMixin:
    """Export and cache clearing of :class:`MainWindow`."""

    # -- exports --------------------------------------------------------------------------------
    def _on_export(self):
        done = self._queue.paths_with_status(DONE)
        if not done:
            self.statusBar().showMessage("Nothing to export yet: no file has been analysed", 5000)
            return
        can_selected = self._selected in done and self._selected not in self._partial
        dialog = ExportDialog(self.browser.folder(), self._selected, can_selected=can_selected, parent=self)
        if dialog.exec() == QDialog.Accepted:
            fmt, dest, queue = dialog.choice()
            if dest:
                self.export(fmt, dest, queue=queue)

    def export(self, fmt, dest, *, queue=False):
        """Export the selected recording (``queue`` False) or every file of the queue, in the
        I/O worker; ``export_finished(dest, error)`` tells how it went.

        ``fmt``: csv, json, audacity, textgrid, eaf (:mod:`ser_engine.exports`, with the
        clinician tier) or summary (one row per file, :meth:`export_csv`). Files that would be
        replaced (a TextGrid made by hand beside the audio, say) are replaced only if the user
        agrees.
        """
        from ser_engine.results import Failure

        existing = existing_targets(fmt, dest, queue=queue)
        if existing and not self.confirm(
                "Replace files?", f"{len(existing)} file{'s' * (len(existing) != 1)} will be replaced, "
                f"for example {existing[0]}.\nReplace {'them' if len(existing) != 1 else 'it'}?"):
            self._on_export_finished(str(dest), "not exported: you chose to keep the existing files")
            return None
        if fmt == "summary":
            return self.export_csv(dest)
        if queue:
            pairs = []
            for e in self._queue.entries():
                if e.result is not None and e.path not in self._partial:
                    pairs.append((e.result, self.reviews.review(e.result)))
                elif e.status == ERROR:
                    pairs.append(Failure(e.path, e.error))
            if not any(not isinstance(p, Failure) for p in pairs):
                self._on_export_finished(str(dest), "no analysed file to export")
                return None
        else:
            e = self._queue.entry(self._selected) if self._selected in self._queue else None
            if e is None or e.result is None or self._selected in self._partial:
                self._on_export_finished(str(dest), "the selected file has not been analysed")
                return None
            pairs = [(e.result, self.reviews.review(e.result))]
        job = ExportJob.make(fmt, dest, pairs, self._labels(), queue=queue)
        self.statusBar().showMessage(f"Exporting {'the queue' if queue else Path(self._selected).name} as {fmt}…")
        self._export_job_requested.emit(job)
        return job

    def export_csv(self, target):
        """Write the queue's results to ``target`` (CSV, atomically, in the I/O worker)."""
        from ser_engine import EMOTIONS

        labels = list(self._model_info["labels"]) if self._model_info else list(EMOTIONS)
        header = ["file", "path", "status", "duration_s", "label", "confidence", "uncertain", "normalisation",
                  "model_id", "model_version", "error"] + [f"p_{k}" for k in labels]
        rows = []
        for e in self._queue.entries():
            r = e.result
            row = [Path(e.path).name, e.path, e.status, "" if e.duration is None else f"{e.duration:.3f}"]
            if r is not None:
                row += [r.label, f"{r.confidence:.4f}", str(bool(r.uncertain)).lower(), r.normalisation,
                        r.model_id, r.model_version, ""]
                row += [f"{r.probabilities.get(k, 0.0):.4f}" for k in labels]
            else:
                row += ["", "", "", "", "", "", e.error] + [""] * len(labels)
            rows.append(row)
        self.statusBar().showMessage(f"Exporting {len(rows)} rows…")
        self._export_requested.emit(str(target), header, rows)

    def _on_export_finished(self, target, error):
        if error:
            self.statusBar().showMessage(f"Export failed: {error}", 10000)
            if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
                QMessageBox.warning(self, "Export failed", f"The results could not be saved:\n{error}")
        else:
            self.statusBar().showMessage(f"Results saved to {target}", 8000)
        self.export_finished.emit(target, error)

    # -- the cache ------------------------------------------------------------------------------
    def confirm(self, title, text):
        """Ask yes/no (tests replace this)."""
        return QMessageBox.question(self, title, text, QMessageBox.Yes | QMessageBox.No,
                                    QMessageBox.No) == QMessageBox.Yes

    def _inform(self, title, text):
        if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
            QMessageBox.information(self, title, text)

    def _on_clear_cache(self):
        """File ▸ Clear cache…: say how big it is, ask, clear it in the I/O worker."""
        from ser_engine.housekeeping import cache_size, format_size
        from ser_engine.paths import user_cache_dir

        if self.train_tab.is_running():
            self.statusBar().showMessage("The cache is in use while a model is being trained; clear it afterwards",
                                         8000)
            return False
        size = cache_size()
        if size == 0:
            self.statusBar().showMessage("The cache is empty", 5000)
            self._inform("Clear cache", f"The cache is empty.\n\n{user_cache_dir()}")
            return False
        text = (f"The cache holds {format_size(size)} in\n{user_cache_dir()}\n\nIt keeps only what SER Studio can "
                "compute again (features of training recordings, library caches); your models, reviews, settings "
                "and recordings are not touched. The next training run extracts features again.\n\n"
                "Clear the cache?")
        if not self.confirm("Clear cache", text):
            return False
        self.statusBar().showMessage("Clearing the cache…")
        self._clear_cache_requested.emit()
        return True

    def _on_cache_cleared(self, freed, failed):
        from ser_engine.housekeeping import format_size

        text = f"Cache cleared: {format_size(freed)} freed"
        if failed:
            text += f"; {len(failed)} item{'s' * (len(failed) != 1)} could not be removed ({failed[0]})"
        self.statusBar().showMessage(text, 10000)
        self._inform("Clear cache", text)
        self.cache_cleared.emit(freed, failed)
