"""The actions of :class:`~desktop.main_window.MainWindow` and the menus and toolbar that hold them.

A function, not a class: building the actions is done once and keeps no state; like Qt
Designer's ``setupUi`` it puts each action on the window (``window.export_action``, …), where
the window's slots, tests and bench/ use them. The slots it connects belong to the window and
its mixins (:mod:`desktop.window_export`, :mod:`desktop.window_help`,
:mod:`desktop.window_timeline`).
"""

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle


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
        a.triggered.connect(slot)
        return a

    window.open_files_action = action("&Open files…", window._on_open_files, QKeySequence.Open,
                                      QStyle.SP_DialogOpenButton, "Queue audio files for analysis")
    window.open_folder_action = action("Open &folder…", window._on_open_folder, "Ctrl+Shift+O",
                                       QStyle.SP_DirOpenIcon, "Queue every recording in a folder")
    window.export_action = action("&Export…", window._on_export, "Ctrl+E", QStyle.SP_DialogSaveButton,
                                  "Save the selected recording or the whole queue: CSV, JSON, Audacity "
                                  "labels, Praat TextGrid, ELAN")
    window.clear_cache_action = action("Clear &cache…", window._on_clear_cache, None, None,
                                       "Delete recomputable files (training features, library caches)")
    window.clear_action = action("&Clear queue", window.clear_queue, None, None, "Remove every file from the queue")
    window.quit_action = action("&Quit", window.close, QKeySequence.Quit)
    window.cancel_action = action("&Cancel analysis", window.cancel, "Esc", QStyle.SP_BrowserStop,
                                  "Stop the batch; files not yet analysed stay in the queue")
    window.cancel_action.setEnabled(False)
    window.baseline_action = action("Speaker &baseline", window._on_baseline_toggled, "Ctrl+B", None,
                                    "Treat the files of each folder as one speaker and normalise by "
                                    "their own statistics (re-analyses the queue)", checkable=True)
    window.reanalyse_action = action("&Analyse again", window.reanalyse, "Ctrl+R", QStyle.SP_BrowserReload,
                                     "Analyse cancelled and finished files again")
    window.play_action = action("&Play / pause", window._on_play_toggled, "Space", QStyle.SP_MediaPlay,
                                "Play or pause the selected recording")
    window.play_action.setShortcutContext(Qt.WindowShortcut)
    window.reset_zoom_action = action("&Reset zoom", window.signal_view.reset_zoom, "Ctrl+0", None,
                                      "Show the whole recording")
    window.browser_action = action("File &browser", window._on_browser_toggled, "Ctrl+Shift+B", None,
                                   "Show or hide the file browser", checkable=True)
    window.browser_action.setChecked(True)
    window.card_action = action("&Model card", window.show_model_card, "F1", QStyle.SP_FileDialogInfoView,
                                "What the model was trained on, how well it does, its limits")
    window.card_action.setEnabled(False)
    window.about_action = action("&About SER Studio", window.show_about)

    menus = window.menuBar()
    m = menus.addMenu("&File")
    for a in (window.open_files_action, window.open_folder_action, None, window.export_action, window.clear_action,
              None, window.clear_cache_action, None, window.quit_action):
        m.addSeparator() if a is None else m.addAction(a)
    m = menus.addMenu("&Analysis")
    for a in (window.baseline_action, window.reanalyse_action, None, window.cancel_action):
        m.addSeparator() if a is None else m.addAction(a)
    m = menus.addMenu("&View")
    for a in (window.play_action, window.reset_zoom_action, None, window.browser_action):
        m.addSeparator() if a is None else m.addAction(a)
    m = menus.addMenu("&Help")
    m.addAction(window.card_action)
    m.addAction(window.about_action)

    bar = window.addToolBar("Main")
    bar.setObjectName("main-toolbar")
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
    bar.setIconSize(QSize(18, 18))
    for a in (window.open_files_action, window.open_folder_action, None, window.play_action, window.reset_zoom_action,
              None, window.baseline_action, window.cancel_action, None, window.export_action, window.card_action):
        bar.addSeparator() if a is None else bar.addAction(a)
    window.addAction(window.play_action)
