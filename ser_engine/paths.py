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


def _user_dir(kind):
    # kind: "data", "cache" or "log" (platformdirs' user_<kind>_dir)
    home = _home_override()
    if home:
        return home / ("logs" if kind == "log" else kind)
    import platformdirs
    return Path(getattr(platformdirs, f"user_{kind}_dir")(APP_NAME, APP_AUTHOR))


def user_data_dir():
    return _user_dir("data")


def user_cache_dir():
    return _user_dir("cache")


def user_log_dir():
    return _user_dir("log")


def resources_dir():
    """The repository's (or the frozen app's) ``resources/`` folder."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def shipped_model_dir():
    return resources_dir() / "model"
