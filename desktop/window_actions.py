"""The actions of :class:`~desktop.main_window.MainWindow` and the menus and toolbar that hold them.

A function, not a class: building the actions is done once and keeps no state; like Qt
Designer's ``setupUi`` it puts each action on the window (``window.export_action``, …), where
tests and bench/ use them. The slots belong to the window and its controllers
(``window.exports``, ``window.help``, ``window.timeline``).

Keys that act on the recording (labels, split, merge, notes, the next uncertain segment, the
speed, reviewed) are given the Analyse tab as their shortcut context by the window
(:meth:`~desktop.main_window.MainWindow._build_analyse_keys`); the keys that move the cursor
act where the signal view and the transport are, so the queue and the file browser keep their
own Home, End and arrow keys. README.md lists every key in one table.

A plain action's ``triggered(bool)`` never reaches its slot: every slot here is called without
arguments (Analysis ▸ Analyse again once got ``False`` as its list of statuses and raised
TypeError on every use). A checkable action passes its new state, through ``toggled``, so a
``setChecked`` from the settings or the session acts as a click does.
"""

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QStyle

from .player import RATES
from .session import ESTIMATE, ESTIMATE_RIGHT, SPEAKER_CHOICES

_ICON = QStyle.StandardPixmap


def build_actions(window):
    """Create the window's actions, its menu bar and its toolbar."""
    style = window.style()

    def action(text, slot, shortcut=None, icon=None, tip=None, checkable=False):
        a = QAction(text, window)
        if icon is not None:
            a.setIcon(style.standardIcon(icon))
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(tip)
        a.setCheckable(checkable)
        if checkable:
            a.toggled.connect(slot)
        else:
            a.triggered.connect(lambda _checked=False: slot())
        return a

    window.open_files_action = action("&Open files…", window._on_open_files, QKeySequence.StandardKey.Open,
                                      _ICON.SP_DialogOpenButton, "Queue audio files for analysis")
    window.open_folder_action = action("Open &folder…", window._on_open_folder, "Ctrl+Shift+O",
                                       _ICON.SP_DirOpenIcon, "Queue every recording in a folder")
    window.export_action = action("&Export…", window.exports.ask_and_export, "Ctrl+E", _ICON.SP_DialogSaveButton,
                                  "Save the selected recording or the whole queue: CSV, JSON, Audacity "
                                  "labels, Praat TextGrid, ELAN")
    window.clear_cache_action = action("Clear &cache…", window.exports.ask_and_clear_cache, None, None,
                                       "Delete recomputable files (training features, library caches)")
    window.import_action = action("&Import annotations…", window.review_tools.ask_and_import, "Ctrl+I", None,
                                  "Make a Praat TextGrid, ELAN .eaf or Audacity label track your labels of the "
                                  "selected recording (Ctrl+Z undoes it)")
    window.report_action = action("&Report…", window.review_tools.ask_and_report, "Ctrl+P", None,
                                  "A PDF report of the selected recording for the patient's record: both tiers, "
                                  "shares of speech time, your notes, the model's limits")
    window.clear_action = action("&Clear queue", window.clear_queue, None, None, "Remove every file from the queue")
    window.quit_action = action("&Quit", window.close, QKeySequence.StandardKey.Quit)
    window.cancel_action = action("&Cancel analysis", window.cancel, "Esc", _ICON.SP_BrowserStop,
                                  "Stop the batch; files not yet analysed stay in the queue")
    window.cancel_action.setEnabled(False)
    window.baseline_action = action("Speaker &baseline", window._on_baseline_toggled, "Ctrl+B", None,
                                    "Treat the files of each folder as one speaker and normalise by "
                                    "their own statistics (re-analyses the queue)", checkable=True)
    window.reanalyse_action = action("&Analyse again", window.reanalyse, "Ctrl+R", _ICON.SP_BrowserReload,
                                     "Analyse cancelled and finished files again")
    _speaker_actions(window, action)
    _review_actions(window, action)
    _playback_actions(window, action)
    window.play_action = action("&Play / pause", window.timeline.toggle_play, "Space", _ICON.SP_MediaPlay,
                                "Play or pause the selected recording")
    window.play_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    window.reset_zoom_action = action("&Reset zoom", window.signal_view.reset_zoom, "Ctrl+0", None,
                                      "Show the whole recording")
    window.browser_action = action("File &browser", window._on_browser_toggled, "Ctrl+Shift+B", None,
                                   "Show or hide the file browser", checkable=True)
    window.browser_action.setChecked(True)
    window.card_action = action("&Model card", window.help.show_model_card, "F1", _ICON.SP_FileDialogInfoView,
                                "What the model was trained on, how well it does, its limits")
    window.card_action.setEnabled(False)
    window.about_action = action("&About SER Studio", window.help.show_about)

    menus = window.menuBar()
    m = menus.addMenu("&File")
    for a in (window.open_files_action, window.open_folder_action):
        m.addAction(a)
    m.addMenu(window.recent_menu)
    for a in (None, window.import_action, None, window.export_action, window.report_action, None,
              window.clear_action, window.table.remove_action, None, window.clear_cache_action, None,
              window.quit_action):
        m.addSeparator() if a is None else m.addAction(a)
    m = menus.addMenu("&Edit")
    m.addAction(window.undo_action)
    m.addAction(window.redo_action)
    m = menus.addMenu("&Review")
    for a in (window.reviewed_action, None, window.next_uncertain_action, window.previous_uncertain_action, None,
              window.split_action, window.merge_action, None, window.note_action, window.recording_note_action):
        m.addSeparator() if a is None else m.addAction(a)
    m = menus.addMenu("&Analysis")
    m.addAction(window.baseline_action)
    count_menu = m.addMenu("Number of &speakers")
    for a in window.speakers_actions:
        count_menu.addAction(a)
    reference_menu = m.addMenu("Neutral &reference")
    for a in (window.reference_file_action, window.reference_stretch_action, window.reference_clear_action):
        reference_menu.addAction(a)
    for a in (None, window.reanalyse_action, None, window.cancel_action):
        m.addSeparator() if a is None else m.addAction(a)
    m = menus.addMenu("&Speakers")
    for a in (window.next_speaker_action, None, window.rename_speaker_action, window.patient_action,
              window.merge_speakers_action):
        m.addSeparator() if a is None else m.addAction(a)
    m = menus.addMenu("&Playback")
    for a in (window.play_action, None, window.start_action, window.end_action, window.back_action,
              window.forward_action, window.back_more_action, window.forward_more_action, None,
              window.slower_action, window.faster_action):
        m.addSeparator() if a is None else m.addAction(a)
    m = menus.addMenu("&View")
    for a in (window.reset_zoom_action, None, window.browser_action):
        m.addSeparator() if a is None else m.addAction(a)
    m = menus.addMenu("&Help")
    m.addAction(window.card_action)
    m.addAction(window.about_action)

    bar = window.addToolBar("Main")
    bar.setObjectName("main-toolbar")
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    bar.setIconSize(QSize(18, 18))
    for a in (window.open_files_action, window.open_folder_action, None, window.play_action, window.reset_zoom_action,
              None, window.baseline_action):
        bar.addSeparator() if a is None else bar.addAction(a)
    bar.addWidget(window.speakers_label)
    bar.addWidget(window.speakers_combo)
    for a in (window.cancel_action, None, window.export_action, window.card_action):
        bar.addSeparator() if a is None else bar.addAction(a)
    window.addAction(window.play_action)
    window.addAction(window.undo_action)
    window.addAction(window.redo_action)
    window.table.row_actions = [window.reviewed_action, window.report_action]


def _count_text(count):
    return "estimate" if count == ESTIMATE else str(count)


def _speaker_actions(window, action):
    """The number of speakers (toolbar control and menu), the neutral reference, the speaker
    corrections and Undo."""
    tip = ("How many people speak in the selected recording (it is analysed again) and in the recordings "
           "analysed next. Give the number when you know it: an estimated number is a guess, right "
           f"{ESTIMATE_RIGHT}.")
    window.speakers_label = QLabel(" Speakers: ", window)
    window.speakers_combo = QComboBox(window)
    window.speakers_combo.setObjectName("speakers-combo")
    for count in SPEAKER_CHOICES:
        window.speakers_combo.addItem(_count_text(count), count)
    window.speakers_combo.setToolTip(tip)
    window.speakers_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    window.speakers_combo.activated.connect(window._on_speakers_chosen)
    group = QActionGroup(window)
    window.speakers_actions = []
    for i, count in enumerate(SPEAKER_CHOICES):
        text = "Estimate (a guess)" if count == ESTIMATE else f"{count} speaker{'s' * (count != 1)}"
        a = QAction(text, window, checkable=True)
        a.setStatusTip(tip)
        a.triggered.connect(lambda _checked=False, i=i: window._on_speakers_chosen(i))
        group.addAction(a)
        window.speakers_actions.append(a)
    window.reference_file_action = action(
        "Use this &recording as the neutral reference", lambda: window.session.mark_reference(whole=True), None,
        None, "This speaker's neutral speech: the recordings in its folder (and the folders in it) are "
        "normalised with it and analysed again (it needs 10 s of speech)")
    window.reference_stretch_action = action(
        "Use the marked &stretch as the neutral reference", lambda: window.session.mark_reference(whole=False),
        "Ctrl+Shift+R", None, "The stretch you marked (Shift+drag in the timeline) or the selected segment: the "
        "recordings in its folder (and the folders in it) are normalised with it and analysed again (it needs "
        "10 s of speech)")
    window.reference_clear_action = action("Stop using the reference", lambda: window.session.clear_reference(),
                                           None, None, "Analyse the recordings it normalised again without it")
    window.next_speaker_action = action("&Give the segment to the next speaker",
                                        lambda: window.session.move_segment_speaker(), "S", None,
                                        "The selected segment was spoken by the next speaker (S again: the one "
                                        "after); saved in the review, Ctrl+Z undoes it")
    window.rename_speaker_action = action("&Rename a speaker…", window.speakers.rename, None, None,
                                          "Call a speaker Patient, Clinician, … (saved in the review)")
    window.patient_action = action("The &patient is…", window.speakers.choose_patient, None, None,
                                   "Whose answer is shown first (remembered for this recording)")
    window.merge_speakers_action = action("&Merge speakers…", window.speakers.merge, None, None,
                                          "One voice was split in two: make one speaker of them")
    window.undo_action = action("&Undo", window._on_undo, QKeySequence.StandardKey.Undo, None,
                                "Take back your last edit: a label, a split, a merge, a boundary, a note, "
                                "reviewed, an import, a speaker correction")
    window.undo_action.setEnabled(False)
    window.redo_action = action("&Redo", window._on_redo, None, None, "Put back the edit you took back")
    window.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    window.redo_action.setEnabled(False)


def _review_actions(window, action):
    """The Review menu: reviewed, the uncertain segments, split, merge, notes."""
    timeline, tools = window.timeline, window.review_tools
    window.reviewed_action = action("Mark as re&viewed", window.session.toggle_reviewed, "Ctrl+Return", None,
                                    "You reviewed the selected recording: the queue shows it (again: not reviewed)",
                                    checkable=False)
    window.reviewed_action.setCheckable(True)
    window.next_uncertain_action = action("&Next uncertain segment", lambda: timeline.step_uncertain(1), "U", None,
                                          "Select the next segment whose label is uncertain")
    window.previous_uncertain_action = action("&Previous uncertain segment", lambda: timeline.step_uncertain(-1),
                                              "Shift+U", None, "Select the previous segment whose label is uncertain")
    window.split_action = action("&Split your label at the cursor", timeline.split, "B", None,
                                 "Cut your label under the cursor in two (both keep the label; give one another)")
    window.merge_action = action("&Merge your label with the next", timeline.merge, "M", None,
                                 "Your label under the cursor (or the marked one) and the next one become one, "
                                 "with the first one's label")
    window.note_action = action("N&ote on the segment or stretch…", tools.edit_target_note, "N", None,
                                "Write a note on the selected segment or the marked stretch (saved in the review, "
                                "printed in the report)")
    window.recording_note_action = action("Note on the &recording…", tools.edit_recording_note, "Shift+N", None,
                                          "Write a note on the whole recording")


def _playback_actions(window, action):
    """The Playback menu: where the cursor goes and how fast it plays."""
    timeline = window.timeline
    for name, text, slot, key, tip in (
            ("start_action", "Go to the &start", timeline.seek_start, "Home", "The cursor to the recording's start"),
            ("end_action", "Go to the &end", timeline.seek_end, "End", "The cursor to the recording's end"),
            ("back_action", "&Back 1 s", lambda: timeline.seek_by(-1.0), "Shift+Left", "The cursor 1 s back"),
            ("forward_action", "&Forward 1 s", lambda: timeline.seek_by(1.0), "Shift+Right", "The cursor 1 s on"),
            ("back_more_action", "Back &5 s", lambda: timeline.seek_by(-5.0), "Ctrl+Left", "The cursor 5 s back"),
            ("forward_more_action", "Forward 5 &s", lambda: timeline.seek_by(5.0), "Ctrl+Right",
             "The cursor 5 s on"),
            ("slower_action", "S&lower", timeline.slower, "[",
             f"Play slower (down to {RATES[0]:g}×; the pitch is kept where QtMultimedia can)"),
            ("faster_action", "F&aster", timeline.faster, "]",
             f"Play faster (up to {RATES[-1]:g}×; the pitch is kept where QtMultimedia can)")):
        setattr(window, name, action(text, slot, key, None, tip))
