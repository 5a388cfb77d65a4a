"""Desktop tests: QSettings never reach the user's real store (each window gets an INI file
in the test's folder, and SER_STUDIO_HOME, set per test, covers anything that opens its own).

``make_window(name)`` opens the main window on the tiny trained model, with its settings in
``name`` under the test's folder (the same name again: a restart) and a
:class:`~tests.desktop.fakes.FakeDialogs` (keywords go to the window: ``playback=SILENT``, …);
``window`` is one such window, closed afterwards."""

import pytest


@pytest.fixture(autouse=True)
def _isolated_qsettings(tmp_path_factory):
    from PySide6.QtCore import QSettings

    root = tmp_path_factory.mktemp("qsettings")
    for scope in (QSettings.UserScope, QSettings.SystemScope):
        for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
            QSettings.setPath(fmt, scope, str(root))
    yield


@pytest.fixture
def make_window(qtbot, tiny_bundle, tmp_path):
    from PySide6.QtCore import QSettings

    from desktop.main_window import MainWindow
    from tests.desktop.fakes import FakeDialogs

    def make(name="settings.ini", **kwargs):
        kwargs.setdefault("dialogs", FakeDialogs())
        w = MainWindow(model_path=str(tiny_bundle), settings=QSettings(str(tmp_path / name), QSettings.IniFormat),
                       **kwargs)
        qtbot.addWidget(w)
        w.show()
        return w

    return make


@pytest.fixture
def window(make_window):
    w = make_window()
    yield w
    w.close()
