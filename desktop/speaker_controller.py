"""The Speakers menu: what asks the user something before it changes the session (which speaker
to rename and to what, who the patient is, which two speakers to merge). The corrections
themselves are the session's (:meth:`~desktop.session.Session.rename_speaker`, …): saved in
the recording's review at once and undone with Edit ▸ Undo.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject

from .dialogs import Dialogs
from .readout import display_name
from .session import Session

logger = logging.getLogger(__name__)


class SpeakerController(QObject):
    """Renaming, choosing the patient and merging speakers of the selected recording."""

    def __init__(self, session: Session, dialogs: Dialogs, parent=None):
        super().__init__(parent)
        self._session = session
        self._dialogs = dialogs

    def _speakers(self, what: str) -> list[int]:
        s = self._session
        speakers = s.speakers_of()
        if not speakers:
            e = s.selected_entry()
            if e is not None and e.final:
                s.events.message.emit(f"This recording was analysed as one speaker: choose Speakers 2, 3 or "
                                      f"estimate first, then {what}", 8000)
            else:
                s.events.message.emit("Select a finished recording first", 4000)
        return speakers

    def _pick(self, title: str, label: str, speakers: list[int]) -> int | None:
        names = [display_name(self._session, k) for k in speakers]
        choice = self._dialogs.choose(title, label, names)
        return None if choice is None else speakers[choice]

    def rename(self) -> bool:
        """Ask which speaker and their name ("Patient", "Clinician"; empty: back to S1, …)."""
        speakers = self._speakers("name the speakers")
        if not speakers:
            return False
        index = speakers[0] if len(speakers) == 1 else self._pick(
            "Rename a speaker", "Which speaker? (S1 is the one who speaks first)", speakers)
        if index is None:
            return False
        name = self._dialogs.ask_text("Rename a speaker", f"Name of {self._session.speaker_label(index)} "
                                      "(for example Patient, Clinician; empty: back to S1, S2, …):",
                                      self._session.speaker_label(index))
        if name is None:
            return False
        return self._session.rename_speaker(index, name)

    def choose_patient(self) -> bool:
        """Ask who the patient is (their answer is shown first)."""
        speakers = self._speakers("choose the patient")
        if not speakers:
            return False
        index = self._pick("The patient", "Which speaker is the patient? Their answer is shown first.", speakers)
        if index is None:
            return False
        return self._session.set_patient(index)

    def merge(self) -> bool:
        """Ask which speaker to merge into which (the analysis split one voice in two)."""
        speakers = self._speakers("merge speakers")
        if len(speakers) < 2:
            if speakers:
                self._session.events.message.emit("Only one speaker is left: nothing to merge", 4000)
            return False
        source = self._pick("Merge speakers", "Merge this speaker…", speakers)
        if source is None:
            return False
        rest = [k for k in speakers if k != source]
        into = rest[0] if len(rest) == 1 else self._pick("Merge speakers",
                                                         f"…into ({self._session.speaker_label(source)}'s segments "
                                                         "become theirs):", rest)
        if into is None:
            return False
        return self._session.merge_speakers(source, into)
