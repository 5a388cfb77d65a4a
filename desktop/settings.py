"""Where the app keeps its QSettings.

Under ``SER_STUDIO_HOME`` (tests, portable installs) the settings are an INI file in that
folder, so separate runs never share or pollute each other's state; otherwise the
platform's native store under the organisation and application name.
"""

import os
from pathlib import Path

from PySide6.QtCore import QSettings

ORGANISATION = "SER Studio"
APPLICATION = "SER Studio"


def open_settings():
    """The app's QSettings object."""
    home = os.environ.get("SER_STUDIO_HOME")
    if home:
        path = Path(home) / "settings.ini"
        path.parent.mkdir(parents=True, exist_ok=True)
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)
