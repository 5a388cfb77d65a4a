"""Reading audio files into the one format the engine uses: mono float32 at 16 kHz."""

import logging
import os
from pathlib import Path

import numpy as np

from .errors import AudioLoadError
from .features import MAX_AMPLITUDE

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
#: Extensions walked in folders. soundfile (libsndfile >= 1.1) reads all of them.
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff")
#: Shorter than this there is not one analysis frame of speech to look at.
MIN_DURATION = 0.1
_BLOCK_FRAMES = 1 << 18  # source frames read at a time: bounded memory for long files
_BLOCK_SAMPLES = 1 << 20  # ... and at most this many samples over all channels (4 MiB)


def load_audio(path, *, sr=SAMPLE_RATE, min_duration=MIN_DURATION):
    """Read an audio file as mono float32 at ``sr`` Hz.

    Parameters
    ----------
    path : str or Path
        WAV, FLAC, OGG/Opus or MP3 at any sample rate, channel count and PCM/float subtype.
    sr : int
        Target rate; the file is resampled with soxr (high quality) if it differs.
    min_duration : float
        Files shorter than this many seconds are refused.

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float32]
        The channels averaged (down-mix), resampled to ``sr``.

    Raises
    ------
    AudioLoadError
        Naming the file and the reason: missing, a folder, not audio, no samples,
        non-finite samples or too short.
    """
    import soundfile as sf

    path = Path(path)
    check_audio_path(path)
    try:
        f = sf.SoundFile(str(path))
    except Exception as exc:  # libsndfile says why in its own words
        raise AudioLoadError(path, f"not a readable audio file ({sndfile_reason(exc, path)})") from None
    with f:
        native_sr = f.samplerate
        if native_sr <= 0:
            raise AudioLoadError(path, f"invalid sample rate {native_sr}")
        # a header may claim hundreds of channels: keep one block's memory bounded anyway
        block_frames = max(1 << 12, min(_BLOCK_FRAMES, _BLOCK_SAMPLES // max(f.channels, 1)))
        pieces = []
        n_native = 0
        for n, piece in decoded_blocks(f, path, sr=sr, block_frames=block_frames):
            n_native += n
            pieces.append(piece)
    if n_native == 0:
        raise AudioLoadError(path, "holds no audio samples")
    duration = n_native / native_sr
    if duration < min_duration:
        raise AudioLoadError(path, f"too short ({duration:.3f} s; at least {min_duration:.2f} s needed)")
    y = np.concatenate(pieces).astype(np.float32, copy=False)
    logger.debug("loaded %s: %.2f s at %d Hz -> %d samples", path.name, duration, native_sr, len(y))
    return y


def decoded_blocks(f, path, *, sr, block_frames):
    """Decode the open :class:`soundfile.SoundFile` ``f`` block by block: yield ``(n, piece)``,
    ``n`` source frames read and ``piece`` their mono float32 at ``sr`` Hz (soxr, streamed).
    The one decoding loop of :func:`load_audio` and :func:`ser_engine.stream.iter_blocks`.

    Raises :class:`AudioLoadError` for a rate soxr cannot convert, non-finite or absurd
    samples (:func:`check_samples`) and data the decoder fails on.
    """
    import soxr

    native_sr = f.samplerate
    try:
        resampler = None if native_sr == sr else soxr.ResampleStream(native_sr, sr, 1, dtype="float32",
                                                                     quality="HQ")
    except Exception as exc:  # a rate soxr cannot convert (a damaged header)
        raise AudioLoadError(path, f"sample rate {native_sr} Hz cannot be converted ({_first_line(exc)})") from None
    while True:
        try:
            block = f.read(block_frames, dtype="float32", always_2d=True)
            last = len(block) < block_frames
            check_samples(path, block)
            mono = block.mean(axis=1, dtype=np.float32) if len(block) else np.zeros(0, np.float32)
            if resampler is not None and (len(mono) or last):
                mono = resampler.resample_chunk(mono, last=last)
        except AudioLoadError:
            raise
        except Exception as exc:
            raise AudioLoadError(path, f"audio data could not be decoded ({_first_line(exc)})") from None
        if len(block) or len(mono):
            yield len(block), mono
        if last:
            return


def iter_audio_files(paths):
    """Yield audio file paths from files and folders (walked recursively, sorted).

    Files named explicitly are yielded whatever their extension, so a bad one reaches
    :func:`load_audio` and gets its reason; inside folders only :data:`AUDIO_EXTENSIONS`
    count and hidden entries are skipped.
    """
    for p in map(Path, paths):
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith(".") and name.lower().endswith(AUDIO_EXTENSIONS):
                        yield Path(root) / name
        else:
            yield p


def check_audio_path(path):
    """Refuse, with :class:`AudioLoadError`, a path no audio can be read from before any
    decoder sees it: missing, a folder, not a regular file (a pipe or a device would block the
    reader forever), unreadable or empty. Shared by every reader of recordings."""
    path = Path(path)
    if not path.exists():
        raise AudioLoadError(path, "file not found")
    if path.is_dir():
        raise AudioLoadError(path, "is a folder, not an audio file")
    if not path.is_file():
        raise AudioLoadError(path, "is not a regular file")
    if not os.access(path, os.R_OK):
        raise AudioLoadError(path, "permission denied")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AudioLoadError(path, f"cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise AudioLoadError(path, "empty file (0 bytes)")


def check_samples(path, block):
    """Refuse a decoded block (any shape) holding NaN or Inf, or values no recording has
    (beyond :data:`~ser_engine.features.MAX_AMPLITUDE`, where the features would overflow)."""
    if not len(block):
        return
    peak = float(np.abs(block).max())  # NaN propagates
    if not np.isfinite(peak):
        raise AudioLoadError(path, "contains non-finite samples (NaN or Inf)")
    if peak > MAX_AMPLITUDE:
        raise AudioLoadError(path, f"sample values far outside [-1, 1] (peak {peak:.3g}); not a usable recording")


def sndfile_reason(exc, path):
    """libsndfile's reason without its "Error opening '<path>': " prefix: the message
    already names the file once."""
    text = _first_line(exc)
    for prefix in (f"Error opening {str(path)!r}: ", f"Error opening '{path}': "):
        if text.startswith(prefix):
            return text[len(prefix):].strip() or text
    return text


def _first_line(exc):
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
