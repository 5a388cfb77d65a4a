"""Playback of the selected recording (QtMultimedia), or a clear reason why there is none.

QtMultimedia is optional: it is missing from PySide6-Essentials, needs libpulse on Linux and
an audio device. Without it the player says why and every other part of the app works.
"""

import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer, QUrl, Signal

logger = logging.getLogger(__name__)

#: How often the playhead moves while playing (ms).
POSITION_INTERVAL_MS = 33


def _import_multimedia():
    from PySide6 import QtMultimedia  # noqa: F401  (ImportError without the module or libpulse)

    return QtMultimedia


class Player(QObject):
    """Plays one file at a time. Times are seconds."""

    position_changed = Signal(float)
    playing_changed = Signal(bool)
    unavailable = Signal(str)  # reason, emitted once if playback cannot work

    def __init__(self, parent=None, *, enabled=True):
        super().__init__(parent)
        self._path = ""
        self._player: Any = None   # QMediaPlayer when playback works
        self._output: Any = None
        self._reason = ""
        self._details = ""
        self._loop = None  # (start, end) seconds while a segment loops
        self._timer = QTimer(self)
        self._timer.setInterval(POSITION_INTERVAL_MS)
        self._timer.timeout.connect(self._on_tick)
        if not enabled:
            self._reason = "Playback is turned off."
            return
        try:
            qm = _import_multimedia()
            if not qm.QMediaDevices.audioOutputs():
                self._reason = "Playback unavailable: no audio output device was found."
                return
            self._output = qm.QAudioOutput(self)
            self._player = qm.QMediaPlayer(self)
            self._player.setAudioOutput(self._output)
            self._player.playbackStateChanged.connect(self._on_state_changed)
            self._player.errorOccurred.connect(self._on_error)
            self._states = qm.QMediaPlayer.PlaybackState
        except Exception as exc:  # ImportError (module or libpulse missing) or a backend failure
            logger.info("playback disabled: %s", exc)
            self._player = None
            self._reason = "Playback unavailable: Qt Multimedia could not be loaded"
            self._details = (f"{type(exc).__name__}: {exc}\nInstall PySide6's multimedia module "
                             "(PySide6-Addons) and, on Linux, libpulse0 to listen to recordings. "
                             "Everything else works without it.")

    @property
    def available(self):
        return self._player is not None

    @property
    def details(self):
        """A longer explanation of :attr:`reason`, for a tooltip."""
        return self._details or self._reason

    @property
    def reason(self):
        """Why playback is unavailable ("" when it is available)."""
        return self._reason

    def is_playing(self):
        return self.available and self._player.playbackState() == self._states.PlayingState

    def loop_range(self):
        """``(start, end)`` of the segment being looped, or None."""
        return self._loop

    def set_loop(self, start=None, end=None):
        """Loop ``[start, end]`` seconds (from its start, playing); no arguments: stop looping.

        Returns whether a loop is now set (False when playback is unavailable)."""
        if start is None or not self.available or not self._path:
            self._loop = None
            return False
        self._loop = (float(start), float(end))
        self.seek(start)
        if not self.is_playing():
            self._player.play()
        return True

    def play_from(self, seconds):
        """Seek to ``seconds`` and play (does nothing when playback is unavailable)."""
        if not self.available or not self._path:
            return
        self._loop = None
        self.seek(seconds)
        if not self.is_playing():
            self._player.play()

    def load(self, path):
        self._loop = None
        self.stop()
        self._path = path or ""
        if self.available:
            self._player.setSource(QUrl.fromLocalFile(self._path) if self._path else QUrl())

    def toggle(self):
        """Play or pause; returns whether it is now playing (False when unavailable)."""
        if not self.available or not self._path:
            return False
        if self.is_playing():
            self._player.pause()
        else:
            self._player.play()
        return self.is_playing()

    def stop(self):
        if self.available:
            self._player.stop()
        self._timer.stop()

    def seek(self, seconds):
        if self.available and self._path:
            self._player.setPosition(int(round(seconds * 1000)))

    def position(self):
        return self._player.position() / 1000 if self.available else 0.0

    def _on_state_changed(self, state):
        playing = state == self._states.PlayingState
        if playing:
            self._timer.start()
        else:
            self._timer.stop()
            self.position_changed.emit(self.position())
        self.playing_changed.emit(playing)

    def _on_tick(self):
        position = self.position()
        if self._loop is not None and position >= self._loop[1]:
            self.seek(self._loop[0])
            position = self._loop[0]
        self.position_changed.emit(position)

    def _on_error(self, _error, message):
        logger.warning("playback of %s failed: %s", self._path, message)
        self.unavailable.emit(f"Playback failed: {message}")
