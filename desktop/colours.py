"""Fixed colours: one per emotion class, the same in every view (queue, strip, bars)."""

from PySide6.QtGui import QColor

#: Chosen to stay distinct for the common colour-vision deficiencies when paired with the
#: label text that always accompanies them; never used as the only cue.
EMOTION_COLOURS = {
    "neutral": "#8d99a6",
    "calm": "#26a69a",
    "happy": "#f2b705",
    "sad": "#3f7fd9",
    "angry": "#d7263d",
    "fearful": "#8e44ad",
    "disgust": "#6b8e23",
    "surprised": "#f5793a",
}
UNKNOWN_COLOUR = "#b0b0b0"
#: Silence and non-speech: a pale grey that reads as "nothing here" beside any emotion.
NO_SPEECH_COLOUR = "#e3e3e3"
ERROR_BACKGROUND = "#f8d7da"
ERROR_FOREGROUND = "#842029"
UNCERTAIN_COLOUR = "#b26a00"
#: The Model cell of a row labelled by a model that is no longer the active one.
OTHER_MODEL_COLOUR = "#b26a00"


def emotion_colour(label):
    """The QColor of ``label`` (grey for a label the palette does not know)."""
    if label == "no speech":
        return QColor(NO_SPEECH_COLOUR)
    return QColor(EMOTION_COLOURS.get(label, UNKNOWN_COLOUR))


def text_colour_on(colour):
    """Black or white, whichever reads better on ``colour``."""
    c = QColor(colour)
    luminance = 0.299 * c.red() + 0.587 * c.green() + 0.114 * c.blue()
    return QColor("#000000") if luminance > 150 else QColor("#ffffff")
