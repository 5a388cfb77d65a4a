"""File ▸ Import annotations…, File ▸ Report… and the notes' dialogs (Review ▸ Note…).

**Import** reads a Praat TextGrid, an ELAN ``.eaf`` or an Audacity label track with
:mod:`ser_engine.annotations` (on the GUI thread: a few kilobytes of text), asks which tier
when the file holds several, and whether to replace the clinician's labels or lay the imported
ones over them when the recording already has some. A bad file gives its one-line reason in a
box and the status bar and changes nothing; an import is one step of Undo.

**Report** writes the session report of the selected recording
(:func:`ser_engine.report.write_report`: a one-to-three-page PDF) in the I/O worker, with a copy
of its review taken on the GUI thread, the model's card (its limits) and the time its result
arrived (the report's "Analysed"). The destination starts as ``<name>.report.pdf`` in the
folder of the last report (Documents the first time, never the recordings' folder).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from .dialogs import Dialogs
from .export_controller import default_export_folder
from .session import Session

logger = logging.getLogger(__name__)

ANNOTATION_FILTERS = ("Annotations (*.TextGrid *.textgrid *.eaf *.txt *.tsv *.labels);;Praat TextGrid (*.TextGrid);;"
                      "ELAN (*.eaf);;Audacity labels (*.txt *.tsv *.labels);;All files (*)")
REPORT_FILTERS = "PDF (*.pdf)"
REPLACE, LAY_OVER = "Replace your labels with them", "Lay them over your labels (yours stay where they have none)"


@dataclasses.dataclass(frozen=True)
class ReportJob:
    """A session report to write in the I/O worker (:meth:`run`)."""

    timeline: Any
    review: Any
    model: Any        # what the report reads of the model: its id and card (desktop.session.ModelInfo)
    dest: Path
    analysed: datetime.datetime | None

    def run(self) -> Path:
        """Write the PDF; raises ExportError with the file and the reason."""
        from ser_engine.report import write_report

        return write_report(self.timeline, self.review, self.model, self.dest, analysed=self.analysed)


class ReviewToolsController(QObject):
    """Imports annotations into the selected recording's review, writes its report, edits notes."""

    report_requested = Signal(object)   # a ReportJob, for the I/O worker
    report_finished = Signal(str, str)  # destination, error ("" on success)

    def __init__(self, session: Session, dialogs: Dialogs, parent=None):
        super().__init__(parent)
        self._session = session
        self._dialogs = dialogs
        self._import_folder = ""
        self._report_folder = default_export_folder()

    # -- import ----------------------------------------------------------------------------------
    def ask_and_import(self) -> bool:
        """File ▸ Import annotations…: choose a file, then :meth:`import_file`."""
        if self._selected_result("import annotations into") is None:
            return False
        folder = self._import_folder or str(Path(self._session.selected).parent)
        path = self._dialogs.open_file("Import annotations as your labels", folder, ANNOTATION_FILTERS)
        return bool(path) and self.import_file(path)

    def import_file(self, path: str) -> bool:
        """Import a tier of ``path`` as the selected recording's clinician tier."""
        from ser_engine.annotations import import_tier, read_annotations
        from ser_engine.errors import SerError

        result = self._selected_result("import annotations into")
        if result is None:
            return False
        self._import_folder = str(Path(path).parent)
        try:
            names = read_annotations(path).tier_names
            tier = None
            if len(names) > 1:
                i = self._dialogs.choose("Import annotations", f"{Path(path).name} holds {len(names)} tiers. "
                                         "Which one holds the emotions?", names)
                if i is None:
                    return False
                tier = names[i]
            imported = import_tier(path, tier, labels=self._session.labels(), duration=float(result.duration))
        except SerError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self._session.events.message.emit(f"Not imported: {reason}", 15000)
            self._dialogs.warn("Import failed", f"{reason}\n\nNothing was changed.")
            return False
        replace = True
        if self._session.clinician_intervals():
            choices = [REPLACE, LAY_OVER]
            i = self._dialogs.choose("Import annotations", f"{Path(self._session.selected).name} already has "
                                     "labels of yours. The imported labels:", choices)
            if i is None:
                return False
            replace = choices[i] == REPLACE
        if not self._session.import_annotations(imported, replace=replace):
            return False
        if imported.unmatched or imported.clipped or imported.points:
            self._dialogs.inform("Annotations imported", f"Imported {imported.describe()}.\n\nCtrl+Z undoes "
                                 "the import.")
        return True

    # -- report ----------------------------------------------------------------------------------
    def ask_and_report(self) -> ReportJob | None:
        """File ▸ Report…: where to write the selected recording's report, then :meth:`report`."""
        if self._selected_result("write the report of") is None:
            return None
        name = Path(self._session.selected).stem + ".report.pdf"
        dest = self._dialogs.save_file("Save the session report", str(Path(self._report_folder) / name),
                                       REPORT_FILTERS)
        if not dest:
            return None
        return self.report(dest)

    def report(self, dest: str | Path) -> ReportJob | None:
        """Write the selected recording's report to ``dest`` in the I/O worker;
        ``report_finished(dest, error)`` tells how it went."""
        s = self._session
        result = self._selected_result("write the report of")
        if result is None:
            return None
        e = s.entry(s.selected)
        review = s.reviews.review(result)
        job = ReportJob(result, copy.deepcopy(review), s.model, Path(dest), e.analysed_at)
        self._report_folder = str(Path(dest).parent)
        s.events.message.emit(f"Writing the report of {Path(s.selected).name}…", 0)
        self.report_requested.emit(job)
        return job

    def _on_report_finished(self, dest: str, error: str) -> None:
        if error:
            self._session.events.message.emit(f"Report not written: {error}", 10000)
            self._dialogs.warn("Report not written", f"The report could not be saved:\n{error}")
        else:
            self._session.events.message.emit(f"Report saved to {dest}", 8000)
        self.report_finished.emit(dest, error)

    # -- notes -----------------------------------------------------------------------------------
    def edit_target_note(self) -> bool:
        """N: write the note on the selected segment or the marked stretch."""
        from .timefmt import span

        s = self._session
        if self._selected_result("write a note on") is None:
            return False
        target = s.target()
        if target is None:
            s.events.message.emit("Select a segment or mark a stretch first; Shift+N writes a note on the whole "
                                  "recording", 5000)
            return False
        text = self._dialogs.ask_note("Your note", f"Your note on {span(target[0], target[1])} (empty removes it):",
                                      s.target_note())
        return text is not None and s.set_target_note(text)

    def edit_recording_note(self) -> bool:
        """Shift+N: write the note on the whole recording."""
        s = self._session
        result = self._selected_result("write a note on")
        if result is None:
            return False
        text = self._dialogs.ask_note("Your note", f"Your note on {Path(s.selected).name} (empty removes it):",
                                      s.recording_note())
        return text is not None and s.set_recording_note(text)

    def _selected_result(self, what: str) -> Any:
        s = self._session
        result = s.selected_result()
        if result is None:
            s.events.message.emit(f"Select an analysed recording to {what} (its analysis must be finished)", 5000)
        return result

    # -- settings --------------------------------------------------------------------------------
    def save_state(self, settings) -> None:
        settings.setValue("report/folder", self._report_folder)
        settings.setValue("import/folder", self._import_folder)

    def restore_state(self, settings) -> None:
        folder = str(settings.value("report/folder", "") or "")
        if folder and Path(folder).is_dir():
            self._report_folder = folder
        folder = str(settings.value("import/folder", "") or "")
        self._import_folder = folder if folder and Path(folder).is_dir() else ""
