"""The timeline under the spectrogram: who speaks (a speaker tier, top, when the recording's
speakers were found), the model's segments and the clinician's labels (lower tier), in their
colours and patterns, along the shared time axis; and the stretch the user marked (Shift+drag
anywhere, or a drag in the clinician tier; its ends snap to the edges of the clinician's labels
within a few pixels). A drag that starts on a boundary of the clinician's labels moves it (a
dashed line shows where it goes until the mouse is released).

The speaker tier never relies on colour: each block carries its speaker's name ("Patient",
"S2") as text, on greys that differ in lightness and hatching as a second cue.

Built for sessions of an hour (well over a thousand segments): the blocks are children of
one layer item per tier (one ``addItem`` each, not one per block), text labels come from a
small pool placed only on the visible blocks wide enough to hold them, and the selection is
one frame item moved over the selected block. "no speech" blocks are pale grey. Colour is
never the only cue: every emotion's block also carries its pattern
(:func:`~desktop.colours.emotion_pattern`, from the colour-blind-safe palette: lines, grids,
dots, none for neutral) in ink that contrasts with the colour, and its name where it fits; the
clinician's blocks have a heavier outline and their own row. A block's outline is a darker
shade of its own colour, one pixel wide: at
the full view of an hour, where a segment is a fraction of a pixel, the outline *is* the block
(a white outline once covered every block, and the tier looked empty until zoomed in).
"""

import logging

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from ser_engine.results import segment_at

from .colours import emotion_colour, emotion_pattern, text_colour_on
from .stretch_view_box import BOUNDARY, GRAB_PIXELS, PAN, STRETCH, StretchViewBox
from .time_axis import TimeAxis
from .timefmt import span

logger = logging.getLogger(__name__)

#: Margin (pixels) a block needs around its text label; the text's width comes from the font.
LABEL_MARGIN_PIXELS = 8
#: Text labels drawn at most (the widest visible blocks get them).
MAX_LABELS = 40
MODEL_TIER = (1.06, 0.88)      # y, height of the model tier's blocks
CLINICIAN_TIER = (0.06, 0.88)  # and of the clinician tier's
SPEAKER_TIER = (2.06, 0.88)    # and of the speaker tier's (shown only with speakers)
#: Speaker k's block: a grey of its own lightness and a hatch (never the only cue: the name is
#: written on it).
SPEAKER_FILLS = ("#ffffff", "#c9c9c9", "#9a9a9a", "#e4e4e4", "#b0b0b0")
SPEAKER_HATCHES = (None, Qt.BrushStyle.Dense6Pattern, None, Qt.BrushStyle.FDiagPattern, Qt.BrushStyle.BDiagPattern)
STRETCH_BRUSH = (31, 111, 209, 60)
#: The outline's shade of the block's colour (QColor.darker: 100 is the same colour).
OUTLINE_DARKER = 125
HINT = "your labels: select a segment or drag here, then 1–8"
#: The pattern's ink: its alpha over the block's colour.
PATTERN_ALPHA = 120


class EmotionStrip(pg.PlotItem):
    """A PlotItem (sharing the signal view's layout and linked time axis) with two tiers."""

    segment_clicked = Signal(int)
    tiers_changed = Signal(int)               # how many tiers are shown (2, or 3 with speakers)
    stretch_changed = Signal(float, float, bool)  # t0, t1 (seconds), finished: the user marked a stretch
    boundary_moved = Signal(float, float)     # a boundary of the clinician's labels dragged: from, to (seconds)

    def __init__(self, **kwargs):
        kwargs.setdefault("axisItems", {"bottom": TimeAxis("bottom")})
        kwargs.setdefault("viewBox", StretchViewBox())
        super().__init__(**kwargs)
        self.setMouseEnabled(x=True, y=False)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.getAxis("left").setStyle(tickLength=0)
        self._segments = []
        self._rects = []
        self._clinician = []
        self._clinician_rects = []
        self._speakers = []       # (start, end, name, index)
        self._speaker_rects = []
        self._selected = -1
        self._model_layer = self._layer()
        self._clinician_layer = self._layer()
        self._speaker_layer = self._layer()
        self._set_tiers(2)
        self._stretch = pg.LinearRegionItem(values=(0, 0), movable=True, brush=STRETCH_BRUSH)
        self._stretch.setZValue(30)
        self._stretch.hide()
        self._stretch.sigRegionChangeFinished.connect(self._on_stretch_moved)
        for item in (self._stretch, *self._stretch.lines):
            _leave_clinician_drags(item, self)
        self.addItem(self._stretch, ignoreBounds=True)
        self.getViewBox().stretch_dragged.connect(self._on_stretch_dragged)
        self.getViewBox().boundary_dragged.connect(self._on_boundary_dragged)
        self.getViewBox().drag_mode = self.drag_mode
        self._boundary_line = pg.InfiniteLine(pos=0, angle=90, movable=False,
                                              pen=pg.mkPen("#111111", width=2, style=Qt.PenStyle.DashLine))
        self._boundary_line.setZValue(60)
        self._boundary_line.hide()
        self.addItem(self._boundary_line, ignoreBounds=True)
        self._frame = QGraphicsRectItem()
        pen = QPen(QColor("#111111"), 3)
        pen.setCosmetic(True)
        self._frame.setPen(pen)
        self._frame.setBrush(Qt.BrushStyle.NoBrush)
        self._frame.setZValue(50)
        self._frame.hide()
        self.addItem(self._frame, ignoreBounds=True)
        self._texts = []
        self._hint = pg.TextItem(HINT, color="#8a8a8a", anchor=(0, 0.5))
        self.addItem(self._hint, ignoreBounds=True)
        self._hint.hide()
        self.getViewBox().sigXRangeChanged.connect(self._on_x_range_changed)
        self.getViewBox().sigResized.connect(self._on_x_range_changed)

    def _layer(self):
        layer = QGraphicsRectItem()
        layer.setPen(QPen(Qt.PenStyle.NoPen))
        layer.setBrush(Qt.BrushStyle.NoBrush)
        self.addItem(layer, ignoreBounds=True)
        return layer

    # -- queries (tests read these) ---------------------------------------------------------
    def segments(self):
        """The model segments shown (ser_engine.results.Segment), in time order."""
        return list(self._segments)

    def block_colours(self):
        """The fill colour of each model block, as ``#rrggbb``."""
        return [r.brush().color().name() for r in self._rects]

    def clinician_blocks(self):
        """``[(start, end, label), ...]`` drawn in the clinician tier."""
        return list(self._clinician)

    def speaker_blocks(self):
        """``[(start, end, name), ...]`` drawn in the speaker tier (empty: no tier)."""
        return [(a, b, name) for a, b, name, _ in self._speakers]

    def tiers(self):
        """The names of the tiers shown, top to bottom."""
        return (["speaker"] if self._speakers else []) + ["model", "clinician"]

    def stretch(self):
        """``(t0, t1)`` of the marked stretch shown, or None."""
        return tuple(float(v) for v in self._stretch.getRegion()) if self._stretch.isVisible() else None

    def selected(self):
        return self._selected

    def tier_at(self, y):
        """The tier at height ``y`` (view coordinates): "clinician", "model", "speaker" or ""."""
        if 0.0 <= y < 1.0:
            return "clinician"
        if 1.0 <= y < 2.0:
            return "model"
        return "speaker" if 2.0 <= y < 3.0 and self._tiers == 3 else ""

    def clinician_at(self, seconds):
        """``(start, end, label)`` of the clinician's label at ``seconds``, or None."""
        for a, b, lab in self._clinician:
            if a <= seconds < b:
                return a, b, lab
        return None

    def drag_mode(self, t, y, tolerance):
        """What a drag from ``(t, y)`` does (:class:`~desktop.stretch_view_box.StretchViewBox`):
        in the clinician tier, moves the boundary within ``tolerance`` seconds, else marks a
        stretch; elsewhere, pans."""
        if self.tier_at(y) != "clinician" or not self._segments:
            return PAN, None
        edges = sorted({a for a, _, _ in self._clinician} | {b for _, b, _ in self._clinician},
                       key=lambda e: abs(e - t))
        if edges and abs(edges[0] - t) <= tolerance:
            return BOUNDARY, edges[0]
        return STRETCH, None

    def visible_labels(self):
        """The texts of the labels currently drawn."""
        return [t.textItem.toPlainText() for t in self._texts if t.isVisible()]

    # -- content ----------------------------------------------------------------------------
    def set_segments(self, segments):
        """Replace the model tier (the selection is dropped)."""
        for r in self._rects:
            r.setParentItem(None)
            if r.scene() is not None:
                r.scene().removeItem(r)
        self._rects = []
        self._segments = []
        self._selected = -1
        self._frame.hide()
        self.append_segments(segments)

    def append_segments(self, segments):
        """Add segments after those shown (the analysis delivers them block by block)."""
        for seg in segments:
            self._segments.append(seg)
            self._rects.append(self._block(seg.start, seg.end, seg.label, MODEL_TIER, self._model_layer,
                                           _tooltip(seg)))
        self._update_hint()
        self._on_x_range_changed()

    def set_clinician(self, intervals):
        """Replace the clinician tier with ``[(start, end, label), ...]``."""
        for r in self._clinician_rects:
            r.setParentItem(None)
            if r.scene() is not None:
                r.scene().removeItem(r)
        self._clinician = [(float(a), float(b), str(lab)) for a, b, lab in intervals]
        tip = "\nDrag its edge to move it; B splits it at the cursor, M merges it with the next"
        self._clinician_rects = [self._block(a, b, lab, CLINICIAN_TIER, self._clinician_layer,
                                             f"clinician: {lab}\n{span(a, b)}{tip}", clinician=True)
                                 for a, b, lab in self._clinician]
        self._update_hint()
        self._on_x_range_changed()

    def set_speakers(self, blocks):
        """Replace the speaker tier with ``[(start, end, name, index), ...]`` (empty: no tier)."""
        for r in self._speaker_rects:
            r.setParentItem(None)
            if r.scene() is not None:
                r.scene().removeItem(r)
        self._speakers = [(float(a), float(b), str(name), int(k)) for a, b, name, k in blocks]
        self._speaker_rects = [self._speaker_block(a, b, name, k) for a, b, name, k in self._speakers]
        tiers = 3 if self._speakers else 2
        if tiers != self._tiers:
            self._set_tiers(tiers)
            self.select(self._selected)
        self._on_x_range_changed()

    def _set_tiers(self, n):
        self._tiers = n
        self.setYRange(0, n, padding=0)
        ticks = [(1.5, "model"), (0.5, "clinician")] + ([(2.5, "speaker")] if n == 3 else [])
        self.getAxis("left").setTicks([ticks])
        self.tiers_changed.emit(n)

    def _speaker_block(self, start, end, name, index):
        y, h = SPEAKER_TIER
        fill = QColor(SPEAKER_FILLS[index % len(SPEAKER_FILLS)])
        rect = QGraphicsRectItem(QRectF(start, y, max(end - start, 1e-3), h), self._speaker_layer)
        rect.setBrush(QBrush(fill))
        pen = QPen(QColor("#555555"), 1)
        pen.setCosmetic(True)
        rect.setPen(pen)
        rect.setToolTip(f"{name}\n{span(start, end)}\nS gives the selected segment to the next speaker")
        hatch = SPEAKER_HATCHES[index % len(SPEAKER_HATCHES)]
        if hatch is not None:
            over = QGraphicsRectItem(rect.rect(), rect)
            over.setBrush(QBrush(QColor(0, 0, 0, 70), hatch))
            over.setPen(QPen(Qt.PenStyle.NoPen))
        return rect

    # -- the marked stretch -------------------------------------------------------------------
    def set_stretch(self, stretch):
        """Show ``(t0, t1)`` as the marked stretch (None: hide it)."""
        self._stretch.blockSignals(True)
        try:
            if stretch is None:
                self._stretch.hide()
            else:
                self._stretch.setRegion(stretch)
                self._stretch.show()
        finally:
            self._stretch.blockSignals(False)

    def _on_stretch_dragged(self, t0, t1, finished):
        t0, t1 = sorted((self.snapped(t0), self.snapped(t1)))
        self.set_stretch((t0, t1))
        self.stretch_changed.emit(t0, t1, finished)

    def snapped(self, t):
        """``t``, or the edge of one of the clinician's labels within a few pixels of it: a
        stretch drawn beside a label starts where it ends (no sliver between them, no overlap)."""
        tolerance = GRAB_PIXELS * abs(self.getViewBox().viewPixelSize()[0])
        edges = [e for a, b, _ in self._clinician for e in (a, b)]
        nearest = min(edges, key=lambda e: abs(e - t), default=None)
        return nearest if nearest is not None and abs(nearest - t) <= tolerance else t

    def _on_boundary_dragged(self, boundary, t, finished):
        if finished:
            self._boundary_line.hide()
            self.boundary_moved.emit(boundary, t)
        else:
            self._boundary_line.setValue(t)
            self._boundary_line.show()

    def _on_stretch_moved(self, *_):
        t0, t1 = self._stretch.getRegion()
        self.stretch_changed.emit(float(t0), float(t1), True)

    def _block(self, start, end, label, tier, layer, tip, clinician=False):
        y, h = tier
        colour = emotion_colour(label)
        rect = QGraphicsRectItem(QRectF(start, y, max(end - start, 1e-3), h), layer)
        rect.setBrush(QBrush(colour))
        pen = QPen(QColor("#222222") if clinician else colour.darker(OUTLINE_DARKER), 2 if clinician else 1)
        pen.setCosmetic(True)
        rect.setPen(pen)
        rect.setToolTip(tip)
        pattern = emotion_pattern(label)
        if pattern != Qt.BrushStyle.NoBrush:
            ink = QColor(text_colour_on(colour))
            ink.setAlpha(PATTERN_ALPHA)
            over = QGraphicsRectItem(rect.rect(), rect)
            over.setBrush(QBrush(ink, pattern))
            over.setPen(QPen(Qt.PenStyle.NoPen))
        return rect

    def block_patterns(self, tier="model"):
        """The pattern drawn over each block of ``tier`` ("model" or "clinician"), as Qt brush styles."""
        rects = self._rects if tier == "model" else self._clinician_rects
        return [r.childItems()[0].brush().style() if r.childItems() else Qt.BrushStyle.NoBrush for r in rects]

    def _update_hint(self):
        show = bool(self._segments) and not self._clinician
        self._hint.setVisible(show)

    def segment_at(self, seconds):
        """The index of the model segment at ``seconds`` (-1: none)."""
        return segment_at(self._segments, seconds)

    def select(self, index):
        """Frame model segment ``index`` across the tiers (-1: none)."""
        self._selected = index
        if 0 <= index < len(self._segments):
            seg = self._segments[index]
            self._frame.setRect(QRectF(seg.start, 0.02, max(seg.end - seg.start, 1e-3), self._tiers - 0.04))
            self._frame.show()
        else:
            self._frame.hide()

    # -- labels -----------------------------------------------------------------------------
    def _on_x_range_changed(self, *_):
        x0, x1 = self.getViewBox().viewRange()[0]
        seconds = max(x1 - x0, 1e-9)
        pixels = max(self.getViewBox().width(), 1.0)
        char_pixels = self._char_pixels()
        wanted = []
        speakers = [(a, b, name) for a, b, name, _ in self._speakers]
        for tier, items in ((MODEL_TIER, [(s.start, s.end, s.label) for s in self._segments]),
                            (CLINICIAN_TIER, self._clinician), (SPEAKER_TIER, speakers)):
            for a, b, lab in _visible(items, x0, x1):
                width = min(b, x1) - max(a, x0)
                room = int((width / seconds * pixels - LABEL_MARGIN_PIXELS) / char_pixels)
                if tier is SPEAKER_TIER and 2 <= room < len(lab):  # a name shortened, never another name
                    lab = lab[:room - 1] + "…"
                if room >= len(lab):
                    wanted.append((width, (max(a, x0) + min(b, x1)) / 2, tier[0] + tier[1] / 2, lab))
        # every tier gets its share of the labels: a long session's speaker names are not
        # crowded out by its many emotion labels
        wanted.sort(key=lambda w: -w[0])
        per_tier = MAX_LABELS // (3 if self._speakers else 2)
        counts: dict = {}
        kept = []
        for w in wanted:
            counts[w[2]] = counts.get(w[2], 0) + 1
            if counts[w[2]] <= per_tier:
                kept.append(w)
        wanted = kept
        while len(self._texts) < len(wanted):
            text = pg.TextItem("", anchor=(0.5, 0.5))
            text.setZValue(40)
            self.addItem(text, ignoreBounds=True)
            self._texts.append(text)
        for text, (_, x, y, lab) in zip(self._texts, wanted, strict=False):  # a pool: more texts than labels
            ink = "#111111" if y == SPEAKER_TIER[0] + SPEAKER_TIER[1] / 2 else text_colour_on(emotion_colour(lab))
            text.setText(lab, color=ink)
            text.setPos(x, y)
            text.show()
        for text in self._texts[len(wanted):]:
            text.hide()
        self._hint.setPos(x0 + seconds * 0.005, CLINICIAN_TIER[0] + CLINICIAN_TIER[1] / 2)

    def _char_pixels(self):
        """The width of a label's character in the labels' font (the system's, as the user set it)."""
        from PySide6.QtGui import QFontMetricsF
        from PySide6.QtWidgets import QApplication

        metrics = QFontMetricsF(QApplication.font())
        return max(metrics.horizontalAdvance("surprised") / len("surprised"), 1.0)


def _leave_clinician_drags(item, strip):
    """The marked stretch (``item``: its region or an edge) is dragged in the model and speaker
    tiers; a drag that starts in the clinician tier is left to the view box below it, where it
    marks a stretch or moves a label's boundary. The marked stretch lies over the labels it
    marks, and took every drag that began on it: pyqtgraph gives a drag to the item that
    claimed it while the mouse hovered, so in the clinician tier the stretch claims nothing."""
    own_drag, own_hover = item.mouseDragEvent, item.hoverEvent

    def in_clinician_tier(ev, scene_pos):
        if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            return False
        return strip.tier_at(float(strip.getViewBox().mapSceneToView(scene_pos).y())) == "clinician"

    def mouse_drag_event(ev):
        if ev.isStart() and in_clinician_tier(ev, ev.buttonDownScenePos()):
            ev.ignore()
            return
        own_drag(ev)

    def hover_event(ev):
        if not ev.isExit() and in_clinician_tier(ev, ev.scenePos()):
            item.setMouseHover(False)
            return
        own_hover(ev)

    item.mouseDragEvent = mouse_drag_event
    item.hoverEvent = hover_event


def _visible(items, x0, x1):
    import bisect

    ends = [b for _, b, _ in items]
    i = bisect.bisect_right(ends, x0)
    while i < len(items) and items[i][0] < x1:
        yield items[i]
        i += 1


def _tooltip(seg):
    if not seg.is_speech:
        return f"no speech\n{span(seg.start, seg.end)}"
    conf = "" if seg.confidence is None else f", {seg.confidence:.0%}"
    return f"{seg.label}{conf}\n{span(seg.start, seg.end)}"
