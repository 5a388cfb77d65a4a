"""Playback of the selected recording (QtMultimedia), or a clear reason why there is none.

QtMultimedia is optional: it is missing from PySide6-Essentials, needs libpulse on Linux and
an audio device. Without it the player says why and every other part of the app works.

The player keeps a *cursor*: where playback starts. A click in the waveform, the spectrogram
or the timeline, a key or a selected segment moves it; Space plays from it. QMediaPlayer loses
a position set while the file is still loading (``setPosition`` right after ``setSource`` is
dropped, and play then starts at 0), so the cursor is kept here and given to the player when
the file is loaded and again when playing starts. Playback speed goes from
:data:`MIN_RATE` to :data:`MAX_RATE`; the pitch is kept where QtMultimedia can
(``QMediaPlayer.pitchCompensation``, Qt 6.10 on, FFmpeg backend), and the player says when it
cannot.
"""

import logging
from typing import Any

from PySide6.QtCore import Q_ARG, QMetaObject, QObject, Qt, QTimer, QUrl, Signal

logger = logging.getLogger(__name__)

#: How often the playhead moves while playing (ms).
POSITION_INTERVAL_MS = 33
#: The playback speeds offered, slowest first (1.0: as recorded).
RATES = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
MIN_RATE, MAX_RATE = RATES[0], RATES[-1]
DEFAULT_RATE = 1.0
#: Positions closer than this (seconds) are the same place.
_SAME_S = 0.05
#: ``Player(enabled=SILENT)``: a real player even without an audio output device (tests and
#: scripted runs on machines with none: the position moves as if it were heard).
SILENT = "silent"


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
        self._cursor = 0.0
        self._rate = DEFAULT_RATE
        self._pitch_kept = False
        self._timer = QTimer(self)
        self._timer.setInterval(POSITION_INTERVAL_MS)
        self._timer.timeout.connect(self._on_tick)
        if not enabled:
            self._reason = "Playback is turned off."
            return
        try:
            qm = _import_multimedia()
            if enabled != SILENT and not qm.QMediaDevices.audioOutputs():
                self._reason = "Playback off: no audio output device."
                self._details = ("No sound card or audio server (PulseAudio, PipeWire) was found. Connect one "
                                 "and restart SER Studio to listen; everything else works without it.")
                return
            self._output = qm.QAudioOutput(self)
            self._player = qm.QMediaPlayer(self)
            self._player.setAudioOutput(self._output)
            self._player.playbackStateChanged.connect(self._on_state_changed)
            self._player.mediaStatusChanged.connect(self._on_media_status)
            self._player.errorOccurred.connect(self._on_error)
            self._states = qm.QMediaPlayer.PlaybackState
            self._status = qm.QMediaPlayer.MediaStatus
            available = getattr(qm.QMediaPlayer, "PitchCompensationAvailability", None)
            if available is not None and self._player.pitchCompensationAvailability() != available.Unavailable:
                self._player.setPitchCompensation(True)
                self._pitch_kept = bool(self._player.pitchCompensation())
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

    # -- speed --------------------------------------------------------------------------------
    def rate(self):
        return self._rate

    def set_rate(self, rate):
        """Play at ``rate`` times the recorded speed (clamped to MIN_RATE..MAX_RATE)."""
        self._rate = float(min(max(float(rate), MIN_RATE), MAX_RATE))
        if self.available:
            self._ask("setPlaybackRate", Q_ARG(float, self._rate))
        return self._rate

    def pitch_kept(self):
        """Whether a speed other than 1× keeps the voice's pitch (QtMultimedia's pitch
        compensation); False when playback is unavailable."""
        return self.available and self._pitch_kept

    # -- where and what ----------------------------------------------------------------------
    def cursor(self):
        """Where playback starts (and, while playing, where it is)."""
        return self._cursor

    def set_loop(self, start=None, end=None):
        """Loop ``[start, end]`` seconds (from its start, playing); no arguments: stop looping.

        Returns whether a loop is now set (False when playback is unavailable)."""
        if start is None or not self.available or not self._path:
            self._loop = None
            return False
        self._loop = (float(start), float(end))
        self.seek(start)
        self.play()
        return True

    def play_from(self, seconds):
        """Move the cursor to ``seconds`` and play (does nothing when playback is unavailable)."""
        if not self.available or not self._path:
            return
        self._loop = None
        self.seek(seconds)
        self.play()

    def play(self):
        """Play from the cursor (a cursor at the end: from the start)."""
        if not self.available or not self._path or self.is_playing():
            return
        duration = self.duration()
        if duration and self._cursor >= duration - _SAME_S:
            self._cursor = 0.0
        if abs(self.position() - self._cursor) > _SAME_S:
            self._ask_position(self._cursor)
        self._ask("setPlaybackRate", Q_ARG(float, self._rate))
        self._ask("play")

    def load(self, path):
        self._loop = None
        self.stop()
        self._path = path or ""
        self._cursor = 0.0
        if self.available:
            self._ask("setSource", Q_ARG(QUrl, QUrl.fromLocalFile(self._path) if self._path else QUrl()))

    def toggle(self):
        """Play from the cursor or pause; returns whether playback was asked to start (False
        when unavailable). The player starts or pauses when the event loop next runs."""
        if not self.available or not self._path:
            return False
        if self.is_playing():
            self._ask("pause")
            return False
        self.play()
        return True

    def stop(self):
        if self.available:
            self._ask("stop")
        self._timer.stop()

    def release(self):
        """Stop, and have Qt delete the player from its event loop (:meth:`_ask` says why):
        before a window closes. Playback is unavailable afterwards."""
        if not self.available:
            return
        self.stop()
        player, output = self._player, self._output
        self._player = self._output = None
        self._reason = "Playback closed."
        player.deleteLater()
        output.deleteLater()

    def seek(self, seconds):
        """Move the cursor (and the playback, while playing) to ``seconds``."""
        self._cursor = max(float(seconds), 0.0)
        if self.available and self._path:
            self._ask_position(self._cursor)

    def position(self):
        return self._player.position() / 1000 if self.available else self._cursor

    def duration(self):
        """The loaded file's length in seconds (0 until it is loaded, or without playback)."""
        return self._player.duration() / 1000 if self.available else 0.0

    # -- asking the player --------------------------------------------------------------------
    def _ask(self, slot, *args):
        """Have QMediaPlayer run ``slot`` from Qt's event loop, not inside this Python call.

        The FFmpeg backend's threads delete objects connected to our QAudioOutput; PySide's
        wrapper of it then wants the GIL in that thread (a Python override lookup) while Qt
        holds the connections' lock. A QMediaPlayer call made from Python holds the GIL and,
        stop() for one, waits for that lock: the window froze for good (seen under load after
        a pause: both threads waiting, 0% CPU). The event loop runs the queued call without
        the GIL, so the backend's thread gets it and both go on.
        """
        QMetaObject.invokeMethod(self._player, slot, Qt.ConnectionType.QueuedConnection, *args)

    def _ask_position(self, seconds):
        self._ask("setPosition", Q_ARG("qint64", int(round(seconds * 1000))))

    # -- the player's events -----------------------------------------------------------------
    def _on_state_changed(self, state):
        if not self.available:  # released: its last events
            return
        playing = state == self._states.PlayingState
        if playing:
            self._timer.start()
        else:
            self._timer.stop()
            if self._player.mediaStatus() != self._status.EndOfMedia:
                self._cursor = self.position()
            self.position_changed.emit(self._cursor)
        self.playing_changed.emit(playing)

    def _on_media_status(self, status):
        if not self.available:
            return
        if status == self._status.LoadedMedia and self._cursor > 0 and abs(self.position() - self._cursor) > _SAME_S:
            self._ask_position(self._cursor)  # a seek made while it was loading
        elif status == self._status.EndOfMedia:
            self._cursor = self.duration()

    def _on_tick(self):
        position = self.position()
        if self._loop is not None and position >= self._loop[1]:
            self.seek(self._loop[0])
            position = self._loop[0]
        self._cursor = position
        self.position_changed.emit(position)

    def _on_error(self, _error, message):
        logger.warning("playback of %s failed: %s", self._path, message)
        self.unavailable.emit(f"Playback failed: {message}")
