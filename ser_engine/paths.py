"""Where things live: the shipped resources and the user's data, cache and log folders.

``SER_STUDIO_HOME`` moves all user folders under one directory (used by tests and by
people who want everything in one place); otherwise platformdirs decides per platform.
"""

import os
import sys
from pathlib import Path

APP_NAME = "SER Studio"
APP_AUTHOR = "SER Studio"


def _home_override():
    home = os.environ.get("SER_STUDIO_HOME")
    return Path(home) if home else None


def user_data_dir():
    home = _home_override()
    if home:
        return home / "data"
    import platformdirs
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def user_cache_dir():
    home = _home_override()
    if home:
        return home / "cache"
    import platformdirs
    return Path(platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR))


def user_log_dir():
    home = _home_override()
    if home:
        return home / "logs"
    import platformdirs
    return Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def resources_dir():
    """The repository's (or the frozen app's) ``resources/`` folder."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def shipped_model_dir():
    return resources_dir() / "model"
