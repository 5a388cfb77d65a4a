"""Playback with a real QMediaPlayer on generated files: the cursor (a click in the waveform, the
spectrogram or the timeline; the keys), playing from it, the speed (pitch kept where Qt can),
the view following the cursor on a long file, and playback left out (no audio device: a message,
everything else works).

This machine has no audio device, so the window's player runs as :data:`desktop.player.SILENT`:
the same QMediaPlayer (FFmpeg backend) and audio output object, its clock moving as if heard.
With a PulseAudio server (``pulseaudio`` installed) one test also plays to a real (null) sink.
"""

import os
import shutil
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from desktop.player import SILENT

pytestmark = pytest.mark.gui
SR = 16000
LONG = 120000  # ms


def tone(path, seconds, sr=SR):
    """A 220 Hz tone with a little noise: something to play, of a known length."""
    rng = np.random.default_rng(3)
    t = np.arange(int(seconds * sr)) / sr
    y = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.standard_normal(len(t))
    sf.write(path, y.astype(np.float32), sr, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def five_seconds(tmp_path_factory):
    return tone(tmp_path_factory.mktemp("play") / "five.wav", 5.0)


@pytest.fixture(scope="module")
def three_minutes(tmp_path_factory):
    return tone(tmp_path_factory.mktemp("long") / "three-minutes.wav", 180.0)


@pytest.fixture
def player(qtbot):
    from desktop.player import Player

    p = Player(enabled=SILENT)
    assert p.available, p.reason
    yield p
    with qtbot.waitSignal(p._player.destroyed, timeout=10000):  # deleted from the event loop (Player._ask)
        p.release()
    assert not p.available and not p.toggle()


def wait_loaded(qtbot, p):
    qtbot.waitUntil(lambda: p.duration() > 0, timeout=10000)


def test_a_seek_made_while_the_file_loads_is_where_playback_starts(qtbot, player, five_seconds):
    # before: QMediaPlayer drops a position set while the file is still loading, and Space
    # then played from 0 whatever the cursor said
    player.load(str(five_seconds))
    player.seek(3.0)
    assert player.cursor() == 3.0
    wait_loaded(qtbot, player)
    assert player.toggle()
    qtbot.waitUntil(lambda: player.position() > 3.05, timeout=5000)
    assert player.position() < 4.5
    player.toggle()  # pause: the cursor is where it stopped
    qtbot.waitUntil(lambda: not player.is_playing(), timeout=3000)
    assert player.cursor() == pytest.approx(player.position(), abs=0.05) and player.cursor() > 3.0


def test_playing_to_the_end_then_again_starts_from_the_start(qtbot, player, five_seconds):
    player.load(str(five_seconds))
    wait_loaded(qtbot, player)
    player.seek(4.7)
    states = []
    player.playing_changed.connect(states.append)
    player.play()  # starts when the event loop runs (Player._ask)
    qtbot.waitUntil(lambda: states[-2:] == [True, False], timeout=5000)  # started, then played to the end
    assert player.cursor() == pytest.approx(5.0, abs=0.05)  # the cursor stays at the end
    player.play()
    qtbot.waitUntil(lambda: player.is_playing(), timeout=3000)
    assert player.position() < 1.0


def test_the_player_is_paused_and_stopped_from_the_event_loop_not_inside_a_python_call(qtbot, player, five_seconds):
    """Before: stop() called QMediaPlayer.stop() holding the GIL while an FFmpeg thread, deleting
    an object connected to the audio output, held Qt's connection lock and waited for the GIL
    (PySide's wrapper): the window froze at 0% CPU (gdb: both threads waiting). Now every call
    that changes the player's state is queued and runs from the event loop, without the GIL."""
    from PySide6.QtMultimedia import QMediaPlayer

    states = QMediaPlayer.PlaybackState
    player.load(str(five_seconds))
    wait_loaded(qtbot, player)
    assert player.toggle()
    qtbot.waitUntil(player.is_playing, timeout=5000)
    assert player.toggle() is False  # pause
    assert player._player.playbackState() == states.PlayingState  # asked, not done inside the call
    qtbot.waitUntil(lambda: player._player.playbackState() == states.PausedState, timeout=3000)
    player.stop()
    assert player._player.playbackState() == states.PausedState
    qtbot.waitUntil(lambda: player._player.playbackState() == states.StoppedState, timeout=3000)


def test_the_speed_from_half_to_twice_keeps_the_pitch_where_qt_can(qtbot, player, five_seconds):
    from desktop.player import MAX_RATE, MIN_RATE

    player.load(str(five_seconds))
    wait_loaded(qtbot, player)
    assert player.set_rate(5.0) == MAX_RATE == 2.0 and player.set_rate(0.1) == MIN_RATE == 0.5
    player.set_rate(2.0)
    player.play()
    qtbot.waitUntil(lambda: player.position() > 0.1, timeout=5000)
    p0, t0 = player.position(), time.monotonic()
    qtbot.wait(700)
    moved, elapsed = player.position() - p0, time.monotonic() - t0
    assert moved / elapsed == pytest.approx(2.0, rel=0.25)  # the clock of the real player at 2x
    from PySide6.QtMultimedia import QMediaPlayer

    if player._player.pitchCompensationAvailability() == QMediaPlayer.PitchCompensationAvailability.Unavailable:
        assert not player.pitch_kept()
    else:  # Qt 6.10+ with FFmpeg: the voice keeps its pitch
        assert player.pitch_kept() and player._player.pitchCompensation()


# -- in the window --------------------------------------------------------------------------------


def analysed(qtbot, w, path):
    with qtbot.waitSignal(w.idle, timeout=LONG):
        w.add_paths([str(path)])
    qtbot.waitUntil(lambda: w.shown_view_path() == str(path) and w.player.duration() > 0, timeout=LONG)


def click(view, plot, fraction):
    """A left click at ``fraction`` of ``plot``'s width, at its middle height."""
    rect = view.mapFromScene(plot.getViewBox().sceneBoundingRect()).boundingRect()
    pos = QPoint(int(rect.left() + rect.width() * fraction), int(rect.center().y()))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    return float(plot.getViewBox().mapSceneToView(view.mapToScene(pos)).x())


def test_clicks_in_every_view_move_the_cursor_and_space_plays_from_it(make_window, qtbot, five_seconds):
    w = make_window(playback=SILENT)
    analysed(qtbot, w, five_seconds)
    view, player = w.signal_view, w.player
    for plot, fraction in ((view.wave_plot, 0.3), (view.spec_plot, 0.5)):
        t = click(view, plot, fraction)
        assert view.playhead() == pytest.approx(t, abs=0.02) and player.cursor() == pytest.approx(t, abs=0.02)
        assert w.timeline.time_label.text().startswith(f"0:0{int(t)}.")
    assert not player.is_playing()
    w.play_action.trigger()  # Space
    qtbot.waitUntil(lambda: player.is_playing(), timeout=5000)
    start = view.playhead()
    assert start >= t - 0.05
    qtbot.waitUntil(lambda: view.playhead() > start + 0.2, timeout=5000)  # the cursor follows playback
    # a click while playing: playback goes on from there
    t = click(view, view.wave_plot, 0.1)
    qtbot.waitUntil(lambda: player.position() < 1.5, timeout=3000)
    assert player.is_playing() and player.position() >= t - 0.05
    w.play_action.trigger()
    qtbot.waitUntil(lambda: not player.is_playing(), timeout=3000)
    # a click on a segment of the timeline selects it and plays it from its start
    t = click(view, view.strip, 0.62)
    index = w.selected_segment_index()
    seg = w.result_of(str(five_seconds)).segments[index]
    assert seg.start <= t < seg.end
    qtbot.waitUntil(lambda: player.is_playing(), timeout=5000)
    assert seg.start - 0.05 <= player.position() < seg.start + 1.0
    w.play_action.trigger()
    qtbot.waitUntil(lambda: not player.is_playing(), timeout=3000)
    w.close()


def test_the_keys_move_the_cursor_and_change_the_speed_which_a_restart_keeps(make_window, qtbot, five_seconds):
    w = make_window(playback=SILENT)
    analysed(qtbot, w, five_seconds)
    view = w.signal_view
    view.setFocus()

    def key(k, mod=Qt.KeyboardModifier.NoModifier):
        QTest.keyClick(view, k, mod)
        return round(w.timeline.cursor(), 3)

    shift, ctrl = Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.ControlModifier
    assert key(Qt.Key.Key_End) == 5.0 and w.player.cursor() == 5.0
    assert w.timeline.time_label.text() == "0:05.0 / 0:05.0"
    assert key(Qt.Key.Key_Left, shift) == 4.0
    assert key(Qt.Key.Key_Left, ctrl) == 0.0  # not before the start
    assert key(Qt.Key.Key_Right, shift) == 1.0
    assert key(Qt.Key.Key_Right, ctrl) == 5.0  # not past the end
    assert key(Qt.Key.Key_Home) == 0.0 and w.player.cursor() == 0.0
    for k, rate in ((Qt.Key.Key_BracketRight, 1.25), (Qt.Key.Key_BracketRight, 1.5), (Qt.Key.Key_BracketLeft, 1.25)):
        QTest.keyClick(view, k)
        assert w.player.rate() == rate and w.timeline.rate_combo.currentText() == f"{rate:g}×"
    w.timeline.rate_combo.setCurrentIndex(0)
    w.timeline.rate_combo.activated.emit(0)
    assert w.player.rate() == 0.5
    assert "pitch" in w.timeline.rate_combo.toolTip()
    w.close()
    again = make_window(playback=SILENT)
    assert again.player.rate() == 0.5 and again.timeline.rate_combo.currentText() == "0.5×"
    again.close()


def test_the_view_follows_the_cursor_while_playing_a_long_file(make_window, qtbot, three_minutes):
    w = make_window(playback=SILENT)
    analysed(qtbot, w, three_minutes)
    view = w.signal_view
    view.show_time(60.0, 70.0)  # zoomed in to 10 s of 3 minutes
    w.timeline.seek_to(69.0)
    assert view.visible_range() == pytest.approx((60.0, 70.0), abs=0.01)  # inside the view: it stays
    w.timeline.set_rate(2.0)
    w.play_action.trigger()
    qtbot.waitUntil(lambda: view.playhead() > 70.2, timeout=10000)
    qtbot.waitUntil(lambda: view.visible_range()[0] > 69.0, timeout=3000)  # the next page
    x0, x1 = view.visible_range()
    assert x1 - x0 == pytest.approx(10.0, abs=0.01) and x0 <= view.playhead() <= x1
    w.play_action.trigger()
    qtbot.waitUntil(lambda: not w.player.is_playing(), timeout=3000)
    w.timeline.seek_to(150.0)  # a jump out of the view brings the view along
    assert view.visible_range()[0] <= 150.0 <= view.visible_range()[1]
    w.close()


def test_without_an_audio_device_playback_says_why_and_the_rest_works(make_window, qtbot, five_seconds,
                                                                      monkeypatch):
    import desktop.player as player_module

    real = player_module._import_multimedia()

    class NoDevices:
        @staticmethod
        def audioOutputs():  # noqa: N802 (Qt's name)
            return []

    class Multimedia:
        QMediaDevices = NoDevices

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(player_module, "_import_multimedia", Multimedia)
    w = make_window()  # playback on, as in the app
    assert not w.player.available
    assert "no audio output device" in w.timeline.playback_note.text()
    assert not w.timeline.play_button.isEnabled() and not w.timeline.rate_combo.isEnabled()
    analysed_without_player(qtbot, w, five_seconds)
    messages = []
    w.session.events.message.connect(lambda text, _ms: messages.append(text))
    w.play_action.trigger()
    assert messages and "no audio output device" in messages[-1]
    t = click(w.signal_view, w.signal_view.wave_plot, 0.5)  # the cursor still moves
    assert w.signal_view.playhead() == pytest.approx(t, abs=0.02)
    w.signal_view.setFocus()
    QTest.keyClick(w.signal_view, Qt.Key.Key_End)
    assert w.timeline.cursor() == pytest.approx(5.0)
    w.select_segment(0)
    w.set_clinician_label(3)  # corrections work
    assert w.clinician_intervals()
    w.close()


def analysed_without_player(qtbot, w, path):
    with qtbot.waitSignal(w.idle, timeout=LONG):
        w.add_paths([str(path)])
    qtbot.waitUntil(lambda: w.shown_view_path() == str(path), timeout=LONG)


@pytest.mark.skipif(shutil.which("pulseaudio") is None, reason="no PulseAudio server here to play to")
def test_with_an_audio_server_the_app_plays_to_its_device(tmp_path, five_seconds):
    """A private PulseAudio server with a null sink: the player finds the device and plays."""
    runtime = tmp_path / "pulse"
    runtime.mkdir()
    env = dict(os.environ, PULSE_RUNTIME_PATH=str(runtime), PULSE_SERVER=f"unix:{runtime}/native",
               QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    server = subprocess.Popen(["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--system=false",
                               "--disallow-exit", "-L", "module-null-sink sink_name=ser_test",
                               "-L", f"module-native-protocol-unix socket={runtime}/native auth-anonymous=1"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            if (runtime / "native").exists():
                break
            time.sleep(0.1)
        script = textwrap.dedent(f"""
            from PySide6.QtWidgets import QApplication
            app = QApplication([])
            from PySide6.QtMultimedia import QMediaDevices
            from desktop.player import Player
            p = Player()
            assert p.available, p.reason
            print("device:", QMediaDevices.defaultAudioOutput().description())
            p.load({str(five_seconds)!r}); p.seek(1.0)
            from PySide6.QtCore import QEventLoop, QTimer
            def wait(ms):
                loop = QEventLoop(); QTimer.singleShot(ms, loop.quit); loop.exec()
            wait(500); p.toggle(); wait(800)
            print("position:", p.position(), "playing:", p.is_playing())
        """)
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr[-2000:]
        lines = dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)
        assert lines["device"] and lines["position"].endswith("playing: True")  # found the device, plays
        if float(lines["position"].split()[0]) == 1.0:
            # seen on a root machine: the null sink stays idle and never takes the stream, and a
            # bare QMediaPlayer's position stays at 0 there too
            pytest.skip("this PulseAudio server never consumed the audio (the position did not move)")
        assert float(lines["position"].split()[0]) > 1.3
    finally:
        server.terminate()
        server.wait(10)
