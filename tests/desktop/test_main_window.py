import subprocess
import sys

import pytest

from tests.conftest import REPO, ravdess_files, requires_data

pytestmark = requires_data


@pytest.fixture
def window(qtbot, tiny_bundle):
    from desktop.main_window import MainWindow

    w = MainWindow(model_path=str(tiny_bundle))
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def cell(w, row, col):
    item = w._table.item(row, col)
    return item.text() if item else ""


def test_model_loads_then_files_are_labelled(window, qtbot, tmp_path):
    assert window.statusBar().currentMessage() in ("Loading model…", "Ready")
    bad = tmp_path / "broken.wav"
    bad.write_text("not audio")
    files = ravdess_files([7], emotions=[3, 4], per_emotion=1)
    with qtbot.waitSignal(window.idle, timeout=60000):
        window.add_paths([str(files[0]), str(bad), str(files[1])])
    assert window._table.rowCount() == 3
    assert [cell(window, r, 1) for r in range(3)] == ["done", "error", "done"]
    assert cell(window, 0, 2).split(" ")[0] in ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust",
                                                "surprised")
    assert "not a readable audio file" in window._table.item(1, 0).toolTip()
    assert window.statusBar().currentMessage() == "Ready"
    assert "tiny-test-model" in window._model_label.text()


def test_the_same_file_is_queued_once(window, qtbot):
    f = ravdess_files([7], emotions=[5], per_emotion=1)[0]
    with qtbot.waitSignal(window.idle, timeout=60000):
        window.add_paths([str(f), str(f.parent / f.name)])
    assert window._table.rowCount() == 1


def test_screenshot_hook_writes_a_png(tiny_bundle, tmp_path):
    out = tmp_path / "shot.png"
    f = ravdess_files([7], emotions=[5], per_emotion=1)[0]
    proc = subprocess.run([sys.executable, "-m", "desktop.app", "--model", str(tiny_bundle), "--open", str(f),
                           "--screenshot", str(out), "--quit-when-idle"], cwd=REPO, capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
