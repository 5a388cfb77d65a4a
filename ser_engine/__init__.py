"""SER Studio engine: audio loading, features, model bundle, inference.

Pure Python and NumPy; never imports Qt. Heavy libraries (librosa, Keras) are
imported lazily inside the functions that need them, so importing this package
is cheap (the desktop app shows its window before paying for them).
"""

__version__ = "0.1.0"

EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
