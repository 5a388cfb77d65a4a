"""The project's one error hierarchy.

Every message names the file (or folder) concerned and, where there is one, the fix.
Callers catch :class:`SerError` to turn any expected failure into a one-line message.
"""


class SerError(Exception):
    """Base class of every error SER Studio raises on purpose."""


class AudioLoadError(SerError):
    """An audio file could not be read or holds no usable audio."""

    def __init__(self, path, reason):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class SignalError(SerError, ValueError):
    """An array handed to the feature functions is not a usable signal (not 1-D, not finite,
    or values no recording can have). A ValueError too, for callers that catch that."""


class ModelLoadError(SerError):
    """A model bundle is missing, incomplete, tampered with or of another version."""


class DatasetError(SerError):
    """A training folder is not a usable RAVDESS speech dataset."""


class ExportError(SerError):
    """A result could not be written."""


class AnnotationError(SerError):
    """An annotation file (TextGrid, ELAN .eaf, Audacity labels) could not be imported."""


class TrainingCancelled(SerError):
    """The user cancelled a training run; nothing was written."""
