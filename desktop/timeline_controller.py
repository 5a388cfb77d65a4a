"""The timeline under the spectrogram and the transport under it, driven by the session.

It draws the selected recording's segments (filling in block by block while it is analysed),
its clinician tier and, when its speakers were found, a speaker tier (as the clinician
corrected and named them); moves the playhead to the selected segment; and turns the user's
clicks and keys into changes of the session: a click in the waveform, spectrogram or timeline
moves the cursor (playback goes on from there), a click on a segment selects it and plays from
its start, ←/→ step through the segments, U/Shift+U to the next/previous uncertain one, 1–8
set the clinician's label, 0 clears it, L loops the segment, S gives it to the next speaker,
Shift+drag (or a drag in the clinician tier) marks a stretch, a drag on a boundary of the
clinician's labels moves it, B splits the label at the cursor and M merges it with the next.

Playback: Space plays from the cursor and pauses; Home/End, Shift+←/→ (1 s) and Ctrl+←/→ (5 s)
move the cursor; [ and ] change the speed (0.5× to 2×, the pitch kept where QtMultimedia can).
While playing, the view follows the cursor: zoomed in on a long recording, it turns the page
when the cursor reaches its right edge. The transport shows the cursor and the selected
recording's length as clock times, read from the session (never from the previous file's view).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QStyle, QToolButton, QWidget

from .player import DEFAULT_RATE, RATES, Player
from .session import ANALYSING, Session
from .signal_view import SignalView
from .timefmt import clock, span

logger = logging.getLogger(__name__)

#: Seconds the cursor moves with Shift+←/→ and with Ctrl+←/→.
SMALL_STEP_S, LARGE_STEP_S = 1.0, 5.0
#: While playing, the view turns its page when the cursor passes this share of its width, and
#: puts the cursor at :data:`FOLLOW_LEAD` of the new page.
FOLLOW_EDGE, FOLLOW_LEAD = 0.98, 0.05


class TimelineController(QObject):
    """Segments, the clinician tier, looping and playback of the selected recording."""

    def __init__(self, session: Session, view: SignalView, player: Player, parent: QWidget):
        super().__init__(parent)
        self._session = session
        self._view = view
        self._player = player
        self._strip_key: tuple = ()  # (path, what the strip holds: "partial" or id of the result)
        self.transport = self._build_transport(parent)

        view.segment_clicked.connect(self._on_segment_clicked)
        view.clinician_clicked.connect(self._on_clinician_clicked)
        view.strip.stretch_changed.connect(self._on_stretch_marked)
        view.strip.boundary_moved.connect(self._on_boundary_moved)
        view.step_requested.connect(self._on_step_requested)
        view.seek_requested.connect(self._on_seek_requested)
        player.position_changed.connect(self._on_player_position_changed)
        player.playing_changed.connect(self._on_playing_changed)
        player.unavailable.connect(self._on_playback_unavailable)
        session.events.selected.connect(self._on_selected)
        session.events.changed.connect(self._on_entry_changed)
        session.events.segment.connect(self._on_segment_selected)
        session.events.review.connect(self._on_review_changed)
        session.events.cleared.connect(self._on_cleared)
        session.events.stretch.connect(self._on_stretch_changed)

    # -- the transport ----------------------------------------------------------------------------
    def _build_transport(self, parent: QWidget) -> QHBoxLayout:
        """The row under the timeline: play/pause, the time, and why playback is off (if it is)."""
        self.play_button = QToolButton(parent)
        self.play_button.setIcon(parent.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.clicked.connect(self.toggle_play)
        self.play_button.setEnabled(self._player.available)
        self.time_label = QLabel("", parent)
        self.time_label.setMinimumWidth(140)
        self.playback_note = QLabel(self._player.reason, parent)
        self.playback_note.setToolTip(self._player.details)
        self.playback_note.setStyleSheet("color: #8a6d00;")
        self.playback_note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.playback_note.setMinimumWidth(40)
        self.rate_combo = QComboBox(parent)
        self.rate_combo.setObjectName("playback-rate")
        for rate in RATES:
            self.rate_combo.addItem(_rate_text(rate), rate)
        self.rate_combo.setCurrentIndex(RATES.index(DEFAULT_RATE))
        self.rate_combo.setEnabled(self._player.available)
        self.rate_combo.setToolTip(self._rate_tip())
        self.rate_combo.activated.connect(self._on_rate_chosen)
        row = QHBoxLayout()
        row.setContentsMargins(4, 0, 4, 0)
        row.addWidget(self.play_button)
        row.addWidget(self.time_label)
        row.addWidget(QLabel("Speed", parent))
        row.addWidget(self.rate_combo)
        row.addWidget(self.playback_note, 1)
        return row

    def _rate_tip(self) -> str:
        if not self._player.available:
            return "Playback speed (playback is unavailable)"
        pitch = ("the voice keeps its pitch" if self._player.pitch_kept()
                 else "the pitch changes with the speed here (QtMultimedia cannot keep it on this system)")
        return f"Playback speed, 0.5× to 2× ([ slower, ] faster); {pitch}"

    def _update_time_label(self, seconds: float) -> None:
        total = self._session.selected_duration()
        self.time_label.setText(f"{clock(seconds)} / {clock(total)}" if total else "")

    # -- actions (menus, keys) --------------------------------------------------------------------
    def toggle_play(self, *_args) -> None:
        if not self._player.available:
            self._session.events.message.emit(self._player.reason, 5000)
            return
        if self._session.selected:
            self._player.toggle()

    def set_label(self, number: int) -> None:
        """Keys 1–8 (0 clears), anywhere in the Analyse tab."""
        self._session.set_clinician_label(number)

    def step(self, delta: int) -> None:
        self._session.step_segment(delta, from_time=self._view.playhead())

    def step_uncertain(self, delta: int) -> None:
        """U / Shift+U: the next / previous uncertain segment."""
        self._session.step_uncertain(delta, from_time=self._view.playhead())

    def split(self) -> None:
        """B: split the clinician's label at the cursor."""
        self._session.split_label(self._view.playhead())

    def merge(self) -> None:
        """M: merge the clinician's label at the cursor (or the marked one) with the next."""
        stretch = self._session.stretch
        self._session.merge_label(stretch[0] if stretch is not None else self._view.playhead())

    # -- the cursor and the speed ------------------------------------------------------------------
    def cursor(self) -> float:
        """Where playback starts: the playhead drawn over the views (seconds)."""
        return float(self._view.playhead())

    def seek_to(self, seconds: float) -> None:
        """Move the cursor to ``seconds`` (inside the recording); playing goes on from there."""
        total = self._session.selected_duration()
        if not self._session.selected:
            return
        seconds = min(max(float(seconds), 0.0), total) if total else max(float(seconds), 0.0)
        self._view.set_playhead(seconds)
        self._player.seek(seconds)
        self._update_time_label(seconds)
        self._keep_in_view(seconds, page=False)

    def seek_by(self, delta: float) -> None:
        """Shift+←/→ and Ctrl+←/→: the cursor ``delta`` seconds on (back when negative)."""
        self.seek_to(self.cursor() + delta)

    def seek_start(self) -> None:
        self.seek_to(0.0)

    def seek_end(self) -> None:
        self.seek_to(self._session.selected_duration())

    def rate(self) -> float:
        return self._player.rate()

    def set_rate(self, rate: float) -> None:
        """Play at ``rate`` × (one of :data:`~desktop.player.RATES`, or the nearest)."""
        rate = min(RATES, key=lambda r: abs(r - float(rate)))
        self._player.set_rate(rate)
        self.rate_combo.setCurrentIndex(RATES.index(rate))
        if self._player.available:
            pitch = "" if rate == 1.0 or self._player.pitch_kept() else " (the pitch changes with it here)"
            self._session.events.message.emit(f"Playback speed {_rate_text(rate)}{pitch}", 3000)

    def faster(self) -> None:
        """]: the next speed up."""
        i = RATES.index(min(RATES, key=lambda r: abs(r - self.rate())))
        self.set_rate(RATES[min(i + 1, len(RATES) - 1)])

    def slower(self) -> None:
        """[: the next speed down."""
        i = RATES.index(min(RATES, key=lambda r: abs(r - self.rate())))
        self.set_rate(RATES[max(i - 1, 0)])

    def _on_rate_chosen(self, index: int) -> None:
        self.set_rate(RATES[index])

    def _keep_in_view(self, seconds: float, *, page: bool) -> None:
        """Scroll a zoomed-in view so ``seconds`` is shown: when it left the view, or (``page``,
        while playing) when it reaches the view's right edge, the next page starts at it."""
        x0, x1 = self._view.visible_range()
        width = x1 - x0
        total = self._session.selected_duration()
        if width <= 0 or not total or width >= total - 1e-6:
            return
        if x0 <= seconds <= x0 + width * (FOLLOW_EDGE if page else 1.0):
            return
        start = min(max(seconds - width * FOLLOW_LEAD, 0.0), max(total - width, 0.0))
        self._view.show_time(start, start + width)

    def toggle_loop(self) -> None:
        """L: loop the selected segment (again: stop looping)."""
        messages = self._session.events.message
        seg = self._session.selected_segment()
        if self._player.loop_range() is not None:
            self._player.set_loop()
            messages.emit("Loop off", 2000)
            return
        if seg is None:
            messages.emit("Select a segment first to loop it", 4000)
            return
        if not self._player.available:
            messages.emit(self._player.reason or "Playback unavailable", 5000)
            return
        self._player.set_loop(seg.start, seg.end)
        messages.emit(f"Looping {span(seg.start, seg.end)} (L stops)", 4000)

    # -- the user's clicks --------------------------------------------------------------------------
    def _on_segment_clicked(self, index: int) -> None:
        """A click on the timeline: select the segment and play from its start."""
        if self._session.select_segment(index) and self._player.available:
            self._player.play_from(self._session.selected_segment().start)

    def _on_step_requested(self, delta: int) -> None:
        self.step(delta)

    def _on_stretch_marked(self, t0: float, t1: float, finished: bool) -> None:
        self._session.set_stretch(t0, t1)
        if finished and self._session.stretch is not None:
            self._session.events.message.emit(
                f"Marked {span(*self._session.stretch)}: 1–8 label it, N writes a note on it, Ctrl+Shift+R makes it "
                "this speaker's neutral reference", 8000)

    def _on_clinician_clicked(self, seconds: float) -> None:
        """A click on one of the clinician's labels: its stretch is marked (1–8, N, M act on it)."""
        self._session.mark_clinician_label(seconds)

    def _on_boundary_moved(self, boundary: float, seconds: float) -> None:
        self._session.move_boundary(boundary, seconds)

    def _on_stretch_changed(self) -> None:
        self._view.strip.set_stretch(self._session.stretch)

    def _on_seek_requested(self, seconds: float) -> None:
        self.seek_to(seconds)

    # -- session events ---------------------------------------------------------------------------
    def _on_selected(self, path: str) -> None:
        self._player.load(path)
        self._strip_key = ()
        self._view.set_playhead(0.0)
        self._draw_strip()
        self._update_time_label(0.0)

    def _on_cleared(self) -> None:
        self._strip_key = ()
        self._view.strip.set_segments([])
        self._view.strip.set_clinician([])
        self._view.strip.set_speakers([])

    def _on_entry_changed(self, path: str) -> None:
        if path == self._session.selected:
            self._draw_strip()
            self._update_time_label(self._view.playhead())

    def _on_review_changed(self, path: str) -> None:
        if path == self._session.selected:
            self._view.strip.set_clinician(self._session.clinician_intervals())
            self._view.strip.set_speakers(self._speaker_blocks())

    def _on_segment_selected(self, index: int) -> None:
        strip = self._view.strip
        strip.select(index)
        seg = self._session.selected_segment()
        if seg is None:
            return
        if self._player.loop_range() is not None:
            self._player.set_loop()  # a loop belongs to the segment it was started on
        self._view.set_playhead(seg.start)
        self._player.seek(seg.start)
        self._update_time_label(seg.start)
        x0, x1 = self._view.visible_range()
        if seg.end < x0 or seg.start > x1:  # scroll the view to it
            width = x1 - x0
            mid = (seg.start + seg.end) / 2
            self._view.show_time(mid - width / 2, mid + width / 2)

    def _draw_strip(self) -> None:
        """The selected recording's segments and clinician tier. A session has thousands of
        segments: while it is analysed only the new ones are added, and a list already drawn
        is not drawn again."""
        s = self._session
        strip = self._view.strip
        e = s.selected_entry()
        if e is None:
            strip.set_segments([])
            strip.set_clinician([])
            strip.set_speakers([])
            strip.set_stretch(None)
            self._strip_key = ()
            return
        segments = e.segments()
        if e.status == ANALYSING:
            key: tuple = (e.path, "partial")
            if self._strip_key == key and len(strip.segments()) <= len(segments):
                strip.append_segments(segments[len(strip.segments()):])
            else:
                strip.set_segments(segments)
        else:
            key = (e.path, id(e.result) if e.result is not None else e.status)
            if self._strip_key != key:
                strip.set_segments(segments)
        self._strip_key = key
        strip.set_clinician(s.clinician_intervals())
        strip.set_speakers(self._speaker_blocks())
        strip.set_stretch(s.stretch)
        strip.select(s.segment)

    def _speaker_blocks(self) -> list[tuple[float, float, str, int]]:
        """The speaker tier: each speech segment's speaker (as corrected and named), segments
        of one speaker that touch drawn as one block."""
        s = self._session
        e = s.selected_entry()
        if e is None or not e.final or len(e.result.speakers) < 2:
            return []
        blocks: list[tuple[float, float, str, int]] = []
        for seg in e.result.segments:
            k = s.reviews.speaker_of(e.result, seg) if seg.is_speech else None
            if k is None:
                continue
            if blocks and blocks[-1][3] == k and abs(blocks[-1][1] - seg.start) < 1e-6:
                blocks[-1] = (blocks[-1][0], seg.end, blocks[-1][2], k)
            else:
                blocks.append((seg.start, seg.end, s.speaker_label(k), k))
        return blocks

    # -- the player ---------------------------------------------------------------------------------
    def _on_player_position_changed(self, seconds: float) -> None:
        self._view.set_playhead(seconds)
        self._update_time_label(seconds)
        if self._player.is_playing():
            self._keep_in_view(seconds, page=True)

    def _on_playing_changed(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.play_button.style().standardIcon(icon))

    def _on_playback_unavailable(self, reason: str) -> None:
        self.playback_note.setText(reason)
        self.playback_note.setToolTip(reason)

    # -- settings ------------------------------------------------------------------------------
    def save_state(self, settings) -> None:
        settings.setValue("playback/rate", self.rate())

    def restore_state(self, settings) -> None:
        try:
            rate = float(settings.value("playback/rate", DEFAULT_RATE))
        except (TypeError, ValueError):
            rate = DEFAULT_RATE
        rate = min(RATES, key=lambda r: abs(r - rate))
        self._player.set_rate(rate)
        self.rate_combo.setCurrentIndex(RATES.index(rate))


def _rate_text(rate: float) -> str:
    """``0.75×``, ``1×``, ``2×``."""
    return f"{rate:g}×"


def keys_legend(labels) -> str:
    """The line under the timeline: which number sets which clinician label."""
    keys = " · ".join(f"<b>{i}</b> {lab}" for i, lab in enumerate(labels[:8], 1))
    return (f"Your label for the selected segment or marked stretch: {keys} · <b>0</b> clear · "
            "<b>drag</b> in your tier: mark a stretch (from an edge: move it) · <b>B</b> split · <b>M</b> merge · "
            "<b>N</b> note · <b>U</b> next uncertain · <b>←/→</b> segments · <b>L</b> loop · <b>S</b> next speaker · "
            "<b>Ctrl+Z</b> undo")


def timeline_help(labels) -> str:
    """The signal view's tooltip: mouse, keys and the number of each clinician label."""
    keys = ", ".join(f"{i} {lab}" for i, lab in enumerate(labels[:8], 1))
    return ("Mouse wheel or drag: zoom and pan along time (all rows together). Click: move the cursor there.\n"
            "Click a segment in the timeline (or in the list on the right): select it and show its probabilities.\n"
            "Drag in the clinician tier (or Shift+drag anywhere): mark a stretch to label, note or use as the "
            "neutral reference; drag an edge of your label to move it.\n"
            "Keys: Space play from the cursor · Home/End · Shift+←/→ 1 s · Ctrl+←/→ 5 s · [ ] speed · "
            "←/→ previous/next segment · U/Shift+U uncertain · L loop · 0 clear your label · S next speaker · "
            "B split · M merge · N note · Ctrl+Z undo · Ctrl+Shift+Z redo\n"
            f"Your label (clinician tier): {keys}")
