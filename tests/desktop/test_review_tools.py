"""The reviewer's tools in the real window, driven as a user would (mouse, keys, menus, the
queue's controls, dialogs answered by FakeDialogs): a drag in the clinician tier labels a free
stretch, a drag on a boundary moves it, B and M split and merge, N and Shift+N write notes,
Ctrl+Z / Ctrl+Shift+Z undo and redo each of them, Ctrl+Enter marks the recording reviewed (the
queue shows it), U steps through the uncertain segments, the queue's filter and sort, Delete and
the row's context menu, the queue and Open recent after a restart, File ▸ Import annotations…
(tiers, a bad file), File ▸ Report…, and the timeline's patterns and the system font size.

The recording is four RAVDESS clips with a second of silence after each (~18 s): four speech
segments, which the tiny test model labels with low confidence (uncertain)."""

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.conftest import ravdess_files, requires_data
from tests.desktop.fakes import FakeDialogs

pytestmark = [requires_data, pytest.mark.gui]
LONG = 120000  # ms
SHIFT, CTRL = Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.ControlModifier
NONE = Qt.KeyboardModifier.NoModifier
CLINICIAN_Y, MODEL_Y = 0.5, 1.5  # the tiers' middles in the timeline's view coordinates


@pytest.fixture(scope="module")
def visit(tmp_path_factory):
    """Four clips of actor 01 (neutral, angry, happy, sad), each followed by 1 s of silence."""
    parts, sr = [], 16000
    for f in ravdess_files([1], emotions=(1, 5, 3, 4), per_emotion=1):
        y, sr = sf.read(f, dtype="float32")
        parts += [y, np.zeros(sr, np.float32)]
    folder = tmp_path_factory.mktemp("visits")
    path = folder / "visit.wav"
    sf.write(path, np.concatenate(parts), sr, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def clips():
    return [str(p) for p in ravdess_files([2], emotions=(1, 2, 5), per_emotion=1)]


def analysed(qtbot, w, *paths):
    with qtbot.waitSignal(w.idle, timeout=LONG):
        w.add_paths([str(p) for p in paths])
    w.select_path(str(paths[0]))
    qtbot.waitUntil(lambda: w.shown_view_path() == str(paths[0]), timeout=LONG)
    return w.result_of(str(paths[0]))


def drag(w, t0, t1, *, y=CLINICIAN_Y, modifiers=NONE, steps=8):
    """A left-button drag in the timeline from ``t0`` to ``t1`` seconds at height ``y``, as a
    mouse makes it: the pointer rests there first (items under it see it hover), and the moves
    come no faster than pyqtgraph takes them (it drops moves closer than its rate limit)."""
    from pyqtgraph import getConfigOption

    view = w.signal_view
    viewport, box, left = view.viewport(), view.strip.getViewBox(), Qt.MouseButton.LeftButton
    gap_ms = int(1000 / max(getConfigOption("mouseRateLimit"), 1)) + 2

    def send(kind, t, button, buttons):
        pos = QPointF(view.mapFromScene(box.mapViewToScene(QPointF(t, y))))
        event = QMouseEvent(kind, pos, viewport.mapToGlobal(pos.toPoint()).toPointF(), button, buttons, modifiers)
        QApplication.sendEvent(viewport, event)

    nothing = Qt.MouseButton.NoButton
    send(QEvent.Type.MouseMove, t0, nothing, nothing)  # the hover
    QTest.qWait(gap_ms)
    send(QEvent.Type.MouseButtonPress, t0, left, left)
    for t in np.linspace(t0, t1, steps)[1:]:
        QTest.qWait(gap_ms)
        send(QEvent.Type.MouseMove, t, nothing, left)
    send(QEvent.Type.MouseButtonRelease, t1, left, nothing)


def key(w, k, modifiers=NONE):
    """A key pressed with the timeline focused (where a clinician's hands are)."""
    w.signal_view.setFocus()
    QTest.keyClick(w.signal_view, k, modifiers)


def tier(w):
    return [(round(a, 1), round(b, 1), lab) for a, b, lab in w.clinician_intervals()]


def test_a_drag_in_the_clinician_tier_labels_a_stretch_and_every_edit_undoes_and_redoes(make_window, qtbot, visit):
    w = make_window()
    result = analysed(qtbot, w, visit)
    labels = result.labels
    drag(w, 1.0, 6.0)
    assert w.session.stretch == pytest.approx((1.0, 6.0), abs=0.1)
    assert w.signal_view.strip.stretch() == pytest.approx(w.session.stretch)
    assert w.panel.clinician_text().startswith("Your label") or "0:01" in w.panel.clinician_text()
    with qtbot.waitSignal(w.review_changed, timeout=5000):
        key(w, Qt.Key.Key_4)
    assert tier(w) == [(1.0, 6.0, labels[3])]
    assert w.signal_view.strip.clinician_blocks() == w.clinician_intervals()
    assert w.undo_action.isEnabled() and w.undo_action.text().startswith("&Undo")
    # a drag in the model's tier still pans: nothing is marked there
    stretch = w.session.stretch
    drag(w, 14.0, 9.0, y=MODEL_Y)
    assert w.session.stretch == stretch and tier(w) == [(1.0, 6.0, labels[3])]
    # Ctrl+Z takes the label back, Ctrl+Shift+Z (and Ctrl+Y) put it back
    key(w, Qt.Key.Key_Z, CTRL)
    assert tier(w) == [] and w.redo_action.isEnabled()
    key(w, Qt.Key.Key_Z, CTRL | SHIFT)
    assert tier(w) == [(1.0, 6.0, labels[3])] and not w.redo_action.isEnabled()
    key(w, Qt.Key.Key_Z, CTRL)
    key(w, Qt.Key.Key_Y, CTRL)
    assert tier(w) == [(1.0, 6.0, labels[3])]
    # Shift+drag in the model's tier marks a stretch as well; 5 labels it
    drag(w, 8.0, 12.0, y=MODEL_Y, modifiers=SHIFT)
    key(w, Qt.Key.Key_5)
    assert tier(w) == [(1.0, 6.0, labels[3]), (8.0, 12.0, labels[4])]
    w.close()


def test_boundaries_move_by_drag_and_labels_split_and_merge_with_b_and_m(make_window, qtbot, visit):
    w = make_window()
    labels = analysed(qtbot, w, visit).labels
    drag(w, 2.0, 6.0)
    key(w, Qt.Key.Key_2)
    drag(w, 10.0, 6.03)  # (a drag from 6 s would move the edge of the label just made)
    key(w, Qt.Key.Key_3)  # its end snapped to the label beside it: no sliver, no overlap
    assert tier(w) == [(2.0, 6.0, labels[1]), (6.0, 10.0, labels[2])]
    strip = w.signal_view.strip
    assert strip.drag_mode(6.0, CLINICIAN_Y, 0.1)[0] == "boundary"  # the pointer would turn into ↔ here
    # the shared boundary dragged from 6 s to 8 s (the marked stretch lies over it: the drag
    # still moves the boundary): both labels follow it
    assert w.session.stretch is not None
    with qtbot.waitSignal(w.review_changed, timeout=5000):
        drag(w, 6.0, 8.0)
    assert tier(w) == [(2.0, 8.0, labels[1]), (8.0, 10.0, labels[2])]
    assert strip.clinician_blocks() == w.clinician_intervals()
    # B splits the label under the cursor; M merges it with the next (the first one's label)
    w.session.set_stretch(None)
    w.timeline.seek_to(4.0)
    key(w, Qt.Key.Key_B)
    assert tier(w) == [(2.0, 4.0, labels[1]), (4.0, 8.0, labels[1]), (8.0, 10.0, labels[2])]
    w.timeline.seek_to(5.0)
    key(w, Qt.Key.Key_M)
    assert tier(w) == [(2.0, 4.0, labels[1]), (4.0, 10.0, labels[1])]
    # each is one step of Undo, in the reverse order
    for expected in ([(2.0, 4.0, labels[1]), (4.0, 8.0, labels[1]), (8.0, 10.0, labels[2])],
                     [(2.0, 8.0, labels[1]), (8.0, 10.0, labels[2])],
                     [(2.0, 6.0, labels[1]), (6.0, 10.0, labels[2])]):
        w.undo_action.trigger()
        assert tier(w) == expected
    w.redo_action.trigger()
    assert tier(w) == [(2.0, 8.0, labels[1]), (8.0, 10.0, labels[2])]
    # a click on one of your labels marks it: 0 clears just that one
    w.signal_view.setFocus()
    box = strip.getViewBox()
    pos = w.signal_view.mapFromScene(box.mapViewToScene(QPointF(9.0, CLINICIAN_Y)))
    QTest.mouseClick(w.signal_view.viewport(), Qt.MouseButton.LeftButton, NONE, pos)
    assert w.session.stretch == pytest.approx(w.clinician_intervals()[1][:2])
    key(w, Qt.Key.Key_0)
    assert tier(w) == [(2.0, 8.0, labels[1])]
    w.close()


def test_notes_on_a_segment_and_the_recording_are_shown_saved_and_undone(make_window, qtbot, visit):
    from ser_engine.review import load_review

    dialogs = FakeDialogs(texts=["Voice breaks here", "Second visit; calmer than the first", None])
    w = make_window(dialogs=dialogs)
    result = analysed(qtbot, w, visit)
    speech = [i for i, s in enumerate(result.segments) if s.is_speech]
    w.select_segment(speech[1])
    key(w, Qt.Key.Key_N)
    assert w.panel.target_note_text() == "Your note: Voice breaks here"
    key(w, Qt.Key.Key_N, SHIFT)
    assert w.panel.note_text() == "Note: Second visit; calmer than the first"
    review = load_review(sha256=result.sha256)
    assert review.note == "Second visit; calmer than the first"
    assert [n.text for n in review.segment_notes] == ["Voice breaks here"]
    assert "note" in w.table.queue_model.data(w.table.queue_model.index(0, 3))
    # the note dialog shows the note there; cancelling it changes nothing
    key(w, Qt.Key.Key_N)
    assert dialogs.asked[-1] == ("ask_note", "Your note", "Voice breaks here")
    assert w.panel.target_note_text() == "Your note: Voice breaks here"
    w.undo_action.trigger()
    assert w.panel.note_text() == "" and w.panel.target_note_text() == "Your note: Voice breaks here"
    w.undo_action.trigger()
    assert w.panel.target_note_text() == ""
    # N with nothing selected says what to do
    w.session.select_segment(-1)
    messages = []
    w.session.events.message.connect(lambda text, _ms: messages.append(text))
    key(w, Qt.Key.Key_N)
    assert messages and messages[-1].startswith("Select a segment or mark a stretch first")
    w.close()


def test_reviewed_is_marked_by_key_box_and_menu_and_the_queue_shows_and_filters_it(make_window, qtbot, visit, clips):
    from desktop.queue_model import REVIEW

    w = make_window()
    analysed(qtbot, w, visit, *clips)
    model = w.table.queue_model
    row = model.row_of(str(visit))
    key(w, Qt.Key.Key_Return, CTRL)
    assert w.session.is_reviewed() and w.reviewed_action.isChecked()
    assert model.data(model.index(row, REVIEW)) == "✓ reviewed"
    assert model.data(model.index(row, 0)) == "✓ visit.wav"  # seen however narrow the queue is
    assert w.panel.reviewed_shown() == (True, True)
    # the queue's filter: not reviewed hides it, reviewed shows it alone
    bar = w.queue_filter
    bar.show_combo.setCurrentIndex(bar.show_combo.findData("not reviewed"))
    bar.show_combo.activated.emit(bar.show_combo.currentIndex())
    assert str(visit) not in w.table.visible_paths() and len(w.table.visible_paths()) == len(clips)
    assert bar.count_label.text() == f"{len(clips)} of {len(clips) + 1} shown (not reviewed)"
    bar.show_combo.setCurrentIndex(bar.show_combo.findData("reviewed"))
    bar.show_combo.activated.emit(bar.show_combo.currentIndex())
    assert w.table.visible_paths() == [str(visit)]
    # the panel's box takes it back (one step of Undo too)
    w.select_path(str(visit))
    w.panel._reviewed.click()
    assert not w.session.is_reviewed() and w.table.visible_paths() == []
    assert w.session.selected == ""  # its row left the filtered queue, and nothing else is shown
    w.undo_action.trigger()
    assert w.session.is_reviewed(str(visit)) and w.table.visible_paths() == [str(visit)]
    bar.set_view(type(bar.view())())
    assert len(w.table.visible_paths()) == len(clips) + 1 and bar.count_label.text() == ""
    w.close()


def test_the_queue_filters_by_label_and_confidence_and_sorts(make_window, qtbot, visit, clips):
    from desktop.queue_filter_bar import SORTS
    from desktop.queue_view import QueueView

    w = make_window()
    analysed(qtbot, w, visit, *clips)
    everyone = [str(visit), *clips]
    bar, table = w.queue_filter, w.table
    answers = {p: w.session.entry(p).headline for p in everyone}
    label = answers[clips[0]].label
    bar.label_combo.setCurrentIndex(bar.label_combo.findData(label))
    bar.label_combo.activated.emit(bar.label_combo.currentIndex())
    assert sorted(table.visible_paths()) == sorted(p for p in everyone if answers[p].label == label)
    bar.set_view(QueueView())
    # below a confidence: only answers under it
    values = sorted(answers[p].value for p in everyone)
    ceiling = (values[1] + values[2]) / 2 if values[1] < values[2] else values[-1] + 0.01
    bar.below_spin.setValue(int(np.ceil(ceiling * 100)))
    assert set(table.visible_paths()) == {p for p in everyone if answers[p].value < bar.view().below}
    bar.below_spin.setValue(100)
    assert len(table.visible_paths()) == len(everyone)
    # sort: by confidence, lowest first; back to the order they were added
    by_confidence = [i for i, (text, *_) in enumerate(SORTS) if text.startswith("confidence")][0]
    bar.sort_combo.setCurrentIndex(by_confidence)
    bar.sort_combo.activated.emit(by_confidence)
    shown = [answers[p].value for p in table.visible_paths()]
    assert shown == sorted(shown)
    bar.sort_combo.setCurrentIndex(0)
    bar.sort_combo.activated.emit(0)
    assert table.visible_paths() == everyone
    # clicking a column header shows its order in the Sort control, or none of the choices
    table.horizontalHeader().setSortIndicator(1, Qt.SortOrder.AscendingOrder)
    assert bar.sort_combo.currentText() == "label"
    w.close()


def test_delete_and_the_context_menu_remove_a_recording_and_its_review_stays(make_window, qtbot, visit, clips):
    from PySide6.QtWidgets import QMenu

    w = make_window()
    analysed(qtbot, w, visit, *clips)
    w.select_path(clips[0])
    key(w, Qt.Key.Key_Return, CTRL)  # reviewed: its review is saved
    table = w.table
    table.setFocus()
    w.select_path(clips[0])
    QTest.keyClick(table, Qt.Key.Key_Delete)
    assert clips[0] not in w.session and table.visible_paths() == [str(visit), *clips[1:]]
    assert w.session.selected == clips[1]  # the next row
    # the row's context menu: Remove, Mark as reviewed, Report…
    shown = []
    orig = QMenu.popup
    QMenu.popup = lambda menu, *_: shown.append([a.text() for a in menu.actions()])
    try:
        rect = table.visualRect(table.model().index(1, 0))
        table.customContextMenuRequested.emit(rect.center())
    finally:
        QMenu.popup = orig
    assert shown and shown[0][0] == "&Remove from the queue"
    assert any("re&viewed" in t for t in shown[0]) and any("Report" in t for t in shown[0])
    assert w.session.selected == clips[1]
    table.remove_action.trigger()
    assert clips[1] not in w.session and w.session.selected in (clips[2], str(visit))
    # queued again: its review (reviewed) comes back with it
    analysed(qtbot, w, clips[0])
    assert w.session.is_reviewed(clips[0])
    w.close()


def test_the_queue_and_open_recent_come_back_after_a_restart(make_window, qtbot, visit, clips, tmp_path):
    import shutil

    gone = tmp_path / "gone.flac"
    shutil.copy(clips[2], gone)
    w = make_window("restart.ini")
    with qtbot.waitSignal(w.idle, timeout=LONG):
        w.open_paths([str(visit), clips[0], str(gone)])
    w.select_path(clips[0])
    assert w.recent_menu.paths()[:3] == [str(visit), clips[0], str(gone)]
    w.close()
    gone.unlink()
    again = make_window("restart.ini")
    assert again.session.paths() == [str(visit), clips[0]]  # the one deleted since is named, not queued
    assert again.session.selected == clips[0]
    with qtbot.waitSignal(again.idle, timeout=LONG):
        pass
    # the one gone is named once the queue is analysed (the model's messages would hide it before)
    assert again.statusBar().currentMessage() == "1 recording of the last session is no longer there: gone.flac"
    assert again.status_of(str(visit)) == "done"
    # Open recent: newest first; a file that is gone says so and leaves the list
    menu = again.recent_menu
    menu.aboutToShow.emit()
    texts = [a.text() for a in menu.actions() if a.data()]
    assert texts[0].startswith("&1 visit.wav") and texts[2].endswith("(not found)")
    missing = [a for a in menu.actions() if a.data() == str(gone)][0]
    missing.trigger()
    assert str(gone) not in menu.paths() and "no longer there" in again.statusBar().currentMessage()
    # choosing a folder queues what is in it
    [a for a in menu.actions() if a.data() == clips[0]][0]  # still listed
    menu.add([str(visit.parent)])
    with qtbot.waitSignal(again.idle, timeout=LONG):
        [a for a in menu.actions() if a.data() == str(visit.parent)][0].trigger()
    assert menu.paths()[0] == str(visit.parent) and str(visit) in again.session
    again.close()


TEXTGRID = """File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = {end}
tiers? <exists>
size = 2
item []:
    item [1]:
        class = "IntervalTier"
        name = "words"
        xmin = 0
        xmax = {end}
        intervals: size = 1
        intervals [1]:
            xmin = 0
            xmax = {end}
            text = "hello"
    item [2]:
        class = "IntervalTier"
        name = "emotion"
        xmin = 0
        xmax = {end}
        intervals: size = 3
        intervals [1]:
            xmin = 0
            xmax = 1
            text = ""
        intervals [2]:
            xmin = 1
            xmax = 5
            text = "angry"
        intervals [3]:
            xmin = 5
            xmax = {end}
            text = "Sad"
"""


def test_import_annotations_asks_the_tier_and_a_bad_file_changes_nothing(make_window, qtbot, visit, tmp_path):
    grid = tmp_path / "visit.TextGrid"
    broken = tmp_path / "broken.TextGrid"
    broken.write_text("File type = \"ooTextFile\"\nnot a grid\n")
    dialogs = FakeDialogs(files=[str(broken), str(grid), str(grid)], choices=["emotion", "emotion", None])
    w = make_window(dialogs=dialogs)
    result = analysed(qtbot, w, visit)
    grid.write_text(TEXTGRID.format(end=round(result.duration, 2)))
    # a bad file: its one-line reason in a box and the status bar, nothing changed
    w.import_action.trigger()
    warned = [(title, text) for kind, title, text in dialogs.asked if kind == "warn"]
    assert warned and warned[0][0] == "Import failed" and warned[0][1].endswith("Nothing was changed.")
    reason = warned[0][1].split("\n")[0]
    assert "broken.TextGrid" in reason and w.statusBar().currentMessage() == f"Not imported: {reason}"
    assert tier(w) == [] and not w.undo_action.isEnabled()
    # a TextGrid of two tiers: which one is asked, and it becomes your labels
    w.import_action.trigger()
    asked = [text for kind, title, text in dialogs.asked if kind == "choose"]
    assert asked and "holds 2 tiers" in asked[-1]
    assert tier(w) == [(1.0, 5.0, "angry"), (5.0, round(result.duration, 1), "sad")]
    assert w.signal_view.strip.clinician_blocks() == w.clinician_intervals()
    # again, over labels of yours: replace or lay over is asked (cancelled here: nothing changes)
    w.import_action.trigger()
    assert tier(w) == [(1.0, 5.0, "angry"), (5.0, round(result.duration, 1), "sad")]
    # one step of Undo takes the whole import back
    w.undo_action.trigger()
    assert tier(w) == []
    w.close()


def test_file_report_writes_the_pdf_of_the_selected_recording(make_window, qtbot, visit, tmp_path):
    from pypdf import PdfReader

    dest = tmp_path / "reports" / "visit.report.pdf"
    dest.parent.mkdir()
    dialogs = FakeDialogs(save_as=str(dest), texts=["Flat affect in the second half"])
    w = make_window(dialogs=dialogs)
    analysed(qtbot, w, visit)
    key(w, Qt.Key.Key_N, SHIFT)
    with qtbot.waitSignal(w.review_tools.report_finished, timeout=LONG) as done:
        w.report_action.trigger()
    assert done.args == [str(dest), ""]
    assert dialogs.asked[-1][0] == "save_file" and dialogs.asked[-1][2].endswith("visit.report.pdf")
    pdf = PdfReader(dest)
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert 1 <= len(pdf.pages) <= 3
    assert "visit.wav" in text and "Flat affect in the second half" in text and "not a diagnosis" in text
    assert w.statusBar().currentMessage() == f"Report saved to {dest}"
    # a destination that cannot be written: the reason, in a box
    dialogs.save_as = str(tmp_path)  # a folder
    with qtbot.waitSignal(w.review_tools.report_finished, timeout=LONG) as failed:
        w.report_action.trigger()
    assert failed.args[1] and [t for k, t, _ in dialogs.asked if k == "warn"] == ["Report not written"]
    w.close()


def test_u_steps_through_the_uncertain_segments(make_window, qtbot, visit):
    w = make_window()
    result = analysed(qtbot, w, visit)
    unsure = [i for i, s in enumerate(result.segments) if s.is_speech and s.uncertain]
    assert len(unsure) >= 2, "the tiny model's labels are expected to be uncertain"
    w.timeline.seek_to(0.0)
    key(w, Qt.Key.Key_U)
    assert w.selected_segment_index() == unsure[0]
    key(w, Qt.Key.Key_U)
    assert w.selected_segment_index() == unsure[1]
    key(w, Qt.Key.Key_U, SHIFT)
    assert w.selected_segment_index() == unsure[0]
    w.close()


def test_the_timeline_carries_patterns_and_text_and_the_system_font_size_is_honoured(make_window, qtbot, visit):
    from desktop.colours import emotion_pattern

    w = make_window()
    result = analysed(qtbot, w, visit)
    strip = w.signal_view.strip
    assert strip.block_patterns("model") == [emotion_pattern(s.label) for s in result.segments]
    assert any(p != Qt.BrushStyle.NoBrush for p in strip.block_patterns("model")) or all(
        s.label in ("neutral", "no speech") for s in result.segments)
    w.signal_view.show_time(0.0, 5.0)
    qtbot.waitUntil(lambda: bool(strip.visible_labels()), timeout=5000)  # the names, where they fit
    assert set(strip.visible_labels()) <= {s.label for s in result.segments}
    headline, row = w.panel.headline_font().pointSizeF(), w.table.verticalHeader().defaultSectionSize()
    w.close()
    app = QApplication.instance()
    font = app.font()
    bigger = type(font)(font)
    bigger.setPointSizeF(font.pointSizeF() * 1.6)
    app.setFont(bigger)
    try:
        big = make_window()
        assert big.panel.headline_font().pointSizeF() == pytest.approx(headline * 1.6, rel=0.05)
        assert big.table.verticalHeader().defaultSectionSize() > row
        assert big.queue_filter.show_combo.font().pointSizeF() == pytest.approx(bigger.pointSizeF())
        big.close()
    finally:
        app.setFont(font)


def test_keys_are_listed_in_the_menus_with_their_shortcuts(window):
    shortcuts = {a.text().replace("&", ""): a.shortcut().toString() for a in (
        window.undo_action, window.reviewed_action, window.next_uncertain_action, window.split_action,
        window.merge_action, window.note_action, window.recording_note_action, window.slower_action,
        window.faster_action, window.import_action, window.report_action, window.start_action)}
    assert shortcuts["Mark as reviewed"] == "Ctrl+Return" and shortcuts["Next uncertain segment"] == "U"
    assert window.redo_action.shortcuts()[0].toString() == "Ctrl+Shift+Z"
    assert [window.menuBar().actions()[i].text() for i in range(len(window.menuBar().actions()))][:4] == [
        "&File", "&Edit", "&Review", "&Analysis"]
