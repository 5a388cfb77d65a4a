"""The window's colours come from the engine's colour-blind-safe palette, with a pattern each."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from desktop.colours import (
    EMOTION_COLOURS,
    NO_SPEECH_COLOUR,
    PATTERN_STYLES,
    UNKNOWN_COLOUR,
    emotion_colour,
    emotion_pattern,
    text_colour_on,
)
from ser_engine import EMOTIONS, palette
from ser_engine.results import NO_SPEECH


def test_colours_are_the_engine_palette():
    for label, colour in palette.palette().items():
        assert emotion_colour(label).name() == colour
    assert EMOTION_COLOURS == palette.EMOTION_COLOURS and NO_SPEECH_COLOUR == palette.NO_SPEECH_COLOUR
    assert emotion_colour("frustrated").name() == UNKNOWN_COLOUR


def test_each_emotion_has_its_own_brush_pattern():
    styles = [emotion_pattern(e) for e in EMOTIONS]
    patterned = [s for s in styles if s != Qt.BrushStyle.NoBrush]
    assert len(patterned) == len(EMOTIONS) - 1 and len(set(patterned)) == len(patterned)
    assert emotion_pattern(NO_SPEECH) == Qt.BrushStyle.NoBrush
    assert emotion_pattern("frustrated") == Qt.BrushStyle.NoBrush
    assert set(PATTERN_STYLES) >= {palette.hatch_name(e) for e in EMOTIONS}


def test_text_colour_follows_contrast():
    for label, colour in palette.palette().items():
        assert text_colour_on(emotion_colour(label)).name() == palette.text_colour(colour)
    assert text_colour_on(QColor("#ffffff")).name() == "#000000"
    assert text_colour_on("#000000").name() == "#ffffff"
