"""Fixed colours: one per emotion class, the same in every view (queue, strip, bars).

The emotion colours and patterns come from :mod:`ser_engine.palette`, chosen and measured to
stay distinct under protanopia, deuteranopia and tritanopia; the PDF report draws with the same
ones. This module turns them into Qt objects and keeps the window's other fixed colours.
"""

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from ser_engine import palette

#: Colour-blind-safe, and never used as the only cue: label text and (where drawn) a pattern
#: go with them (:func:`emotion_pattern`).
EMOTION_COLOURS = dict(palette.EMOTION_COLOURS)
UNKNOWN_COLOUR = palette.UNKNOWN_COLOUR
#: Silence and non-speech: a pale grey that reads as "nothing here" beside any emotion.
NO_SPEECH_COLOUR = palette.NO_SPEECH_COLOUR
ERROR_BACKGROUND = "#f8d7da"
ERROR_FOREGROUND = "#842029"
UNCERTAIN_COLOUR = "#b26a00"
#: The Model cell of a row labelled by a model that is no longer the active one.
OTHER_MODEL_COLOUR = "#b26a00"

#: The Qt brush style of each of the palette's hatch names (one style per name).
PATTERN_STYLES = {
    "none": Qt.BrushStyle.NoBrush,
    "horizontal": Qt.BrushStyle.HorPattern,
    "vertical": Qt.BrushStyle.VerPattern,
    "grid": Qt.BrushStyle.CrossPattern,
    "diagonal-up": Qt.BrushStyle.BDiagPattern,
    "diagonal-down": Qt.BrushStyle.FDiagPattern,
    "cross-diagonal": Qt.BrushStyle.DiagCrossPattern,
    "dots": Qt.BrushStyle.Dense6Pattern,
}


def emotion_colour(label):
    """The QColor of ``label`` (grey for a label the palette does not know)."""
    return QColor(palette.colour_for(label))


def emotion_pattern(label):
    """The Qt brush style that marks ``label`` besides its colour (``NoBrush`` for neutral,
    no speech and labels outside the palette)."""
    return PATTERN_STYLES.get(palette.hatch_name(label), Qt.BrushStyle.NoBrush)


def text_colour_on(colour):
    """Black or white, whichever has the higher contrast on ``colour`` (WCAG 2 relative
    luminance, :func:`ser_engine.palette.text_colour`)."""
    return QColor(palette.text_colour(QColor(colour).name()))
