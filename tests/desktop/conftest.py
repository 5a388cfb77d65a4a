"""Desktop tests: QSettings never reach the user's real store (each window gets an INI file
in the test's folder, and SER_STUDIO_HOME, set per test, covers anything that opens its own)."""

import pytest


@pytest.fixture(autouse=True)
def _isolated_qsettings(tmp_path_factory):
    from PySide6.QtCore import QSettings

    root = tmp_path_factory.mktemp("qsettings")
    for scope in (QSettings.UserScope, QSettings.SystemScope):
        for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
            QSettings.setPath(fmt, scope, str(root))
    yield
