"""The timeline under the spectrogram, as part of :class:`~desktop.main_window.MainWindow`:
selecting a segment (click, ←/→), the clinician's labels (keys 1–8, 0 clears), looping the
selected segment (L) and the playback transport (play button, time label) they drive.

A mixin rather than a helper object: every method is a slot of the window's own widgets and
reads or sets the selection the rest of the window keeps (``_selected``, ``_segment``,
``_partial``), and tests and bench/ call ``select_segment``, ``set_clinician_label`` and
``clinician_intervals`` on the window. A separate object would reach into the window on nearly
every line and need a forwarding method on it for each of those.

The window provides ``signal_view``, ``player``, ``reviews``, ``_queue``, ``_selected``,
``_segment``, ``_partial``, ``_show_selected()``, ``_labels()`` and the ``review_changed``
signal; it calls ``_build_transport()`` once, while it lays itself out.
"""

from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QStyle, QToolButton


class TimelineMixin:
    """Segment selection, clinician labels, looping and playback of :class:`MainWindow`."""

    # -- the timeline: segments and the clinician tier ----------------------------------------
    def _on_segment_clicked(self, index):
        """A click on the timeline: select the segment and play from its start."""
        self.select_segment(index)
        if 0 <= self._segment and self.player.available:
            self.player.play_from(self._selected_segment().start)

    def _on_whole_recording_requested(self):
        self._segment = -1
        self.signal_view.strip.select(-1)
        self._show_selected()

    def _selected_segment(self):
        segs = self.signal_view.strip.segments()
        return segs[self._segment] if 0 <= self._segment < len(segs) else None

    def selected_segment_index(self):
        return self._segment

    def select_segment(self, index):
        """Select segment ``index`` of the timeline: its probabilities in the panel, the
        playhead at its start (the view scrolls to it when it is off screen)."""
        segs = self.signal_view.strip.segments()
        if not 0 <= index < len(segs):
            return
        self._segment = index
        seg = segs[index]
        if self.player.loop_range() is not None:
            self.player.set_loop()  # a loop belongs to the segment it was started on
        self.signal_view.set_playhead(seg.start)
        self.player.seek(seg.start)
        self._update_time_label(seg.start)
        x0, x1 = self.signal_view.wave_plot.viewRange()[0]
        if seg.end < x0 or seg.start > x1:
            span = x1 - x0
            mid = (seg.start + seg.end) / 2
            self.signal_view.wave_plot.setXRange(mid - span / 2, mid + span / 2, padding=0)
        self._show_selected()
        if self._queue.entry(self._selected).result is None or self._selected in self._partial:
            self.signal_view.strip.select(index)  # still analysing: the panel waits, the frame shows

    def step_segment(self, delta):
        """←/→: the previous or next segment (from the playhead when none is selected)."""
        segs = self.signal_view.strip.segments()
        if not segs:
            return
        if self._segment < 0:
            here = self.signal_view.strip.segment_at(self.signal_view.playhead())
            index = max(here, 0) if delta > 0 else max(here - 1 if here > 0 else 0, 0)
        else:
            index = min(max(self._segment + delta, 0), len(segs) - 1)
        self.select_segment(index)

    def set_clinician_label(self, number):
        """Keys 1–8: the clinician's label for the selected segment (the model's labels, in
        order); 0 clears it. Saved at once."""
        e = self._queue.entry(self._selected) if self._selected in self._queue else None
        result = e.result if e is not None else None
        seg = self._selected_segment()
        if result is None or self._selected in self._partial:
            self.statusBar().showMessage("Corrections can be made once the analysis of this file is finished", 5000)
            return
        if seg is None:
            self.statusBar().showMessage("Select a segment first: click it in the timeline, or press → ", 5000)
            return
        labels = self._labels()
        if number > len(labels):
            return
        label = None if number == 0 else labels[number - 1]
        error = self.reviews.set_label(result, seg, label)
        if error:
            self.statusBar().showMessage(f"Correction not saved: {error}", 10000)
            return
        what = f"set to {label}" if label else "cleared"
        self.statusBar().showMessage(f"Your label for {seg.start:.2f}–{seg.end:.2f} s {what} (saved)", 4000)
        self._show_selected()
        self.review_changed.emit(self._selected)

    def clinician_intervals(self, path=None):
        """``[(start, end, label), ...]`` of the clinician tier of ``path`` (the selected file)."""
        e = self._queue.entry(path or self._selected)
        return self.reviews.intervals(e.result) if e.result is not None else []

    def toggle_loop(self):
        """L: loop the selected segment (again: stop looping)."""
        seg = self._selected_segment()
        if self.player.loop_range() is not None:
            self.player.set_loop()
            self.statusBar().showMessage("Loop off", 2000)
            return
        if seg is None:
            self.statusBar().showMessage("Select a segment first to loop it", 4000)
            return
        if not self.player.available:
            self.statusBar().showMessage(self.player.reason or "Playback unavailable", 5000)
            return
        self.player.set_loop(seg.start, seg.end)
        self.statusBar().showMessage(f"Looping {seg.start:.2f}–{seg.end:.2f} s (L stops)", 4000)

    # -- playback -------------------------------------------------------------------------
    def _build_transport(self):
        """The row under the timeline: play/pause, the time, and why playback is off (if it is)."""
        self._play_button = QToolButton(self)
        self._play_button.setIcon(self.style().standardIcon(QStyle.SP_MediaPlay))
        self._play_button.setToolTip("Play / pause (Space)")
        self._play_button.clicked.connect(self._on_play_toggled)
        self._time_label = QLabel("", self)
        self._time_label.setMinimumWidth(140)
        self._playback_note = QLabel(self.player.reason, self)
        self._playback_note.setToolTip(self.player.details)
        self._playback_note.setStyleSheet("color: #8a6d00;")
        self._play_button.setEnabled(self.player.available)
        self._playback_note.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self._playback_note.setMinimumWidth(40)
        transport = QHBoxLayout()
        transport.setContentsMargins(4, 0, 4, 0)
        transport.addWidget(self._play_button)
        transport.addWidget(self._time_label)
        transport.addWidget(self._playback_note, 1)
        return transport

    def _on_play_toggled(self, *_):
        if not self.player.available:
            self.statusBar().showMessage(self.player.reason, 5000)
            return
        if self._selected:
            self.player.toggle()

    def _on_seek_requested(self, seconds):
        self.signal_view.set_playhead(seconds)
        self.player.seek(seconds)
        self._update_time_label(seconds)

    def _on_player_position_changed(self, seconds):
        self.signal_view.set_playhead(seconds)
        self._update_time_label(seconds)

    def _on_playing_changed(self, playing):
        icon = QStyle.SP_MediaPause if playing else QStyle.SP_MediaPlay
        self._play_button.setIcon(self.style().standardIcon(icon))

    def _on_playback_unavailable(self, reason):
        self._playback_note.setText(reason)
        self._playback_note.setToolTip(reason)

    def _update_time_label(self, seconds):
        total = self.signal_view.duration()
        self._time_label.setText(f"{seconds:5.2f} s / {total:.2f} s" if total else "")


def keys_legend(labels):
    """The line under the timeline: which number sets which clinician label."""
    keys = " · ".join(f"<b>{i}</b> {lab}" for i, lab in enumerate(labels[:8], 1))
    return (f"Timeline (click it first): {keys} · <b>0</b> clear · <b>←/→</b> previous/next segment · "
            "<b>L</b> loop")


def timeline_help(labels):
    """The signal view's tooltip: mouse, keys and the number of each clinician label."""
    keys = ", ".join(f"{i} {lab}" for i, lab in enumerate(labels[:8], 1))
    return ("Mouse wheel or drag: zoom and pan along time (all rows together). Click: move the playhead.\n"
            "Click a segment in the timeline: select it, play from there, show its probabilities.\n"
            "Keys: ←/→ previous/next segment · L loop it · 0 clear your label\n"
            f"Your label (clinician tier): {keys}")
