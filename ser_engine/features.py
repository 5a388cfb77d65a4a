"""Frame-level features: log-mel, MFCC (+ deltas), chroma, log-energy and pitch.

All functions are pure, keyword-only after the signal, and take the
:class:`FeatureConfig` stored in the model bundle, so a model is always fed the
features it was trained on. Training and inference call these same functions.

The power spectrum is framed by hand (``center=True`` framing with zero padding, as
``librosa.stft``) so that a long signal can be processed in blocks and still give
exactly the frames of one pass; librosa supplies the mel and chroma filter banks
(:func:`filter_banks`). A model bundle stores those banks (``filters.npz``) and the
Predictor passes them in, so inference never imports librosa; training computes them.
Chroma uses ``tuning=0.0``: librosa's tuning estimate (``piptrack``) crashes the
process when TensorFlow is loaded (see docs/NOTES).
"""

import dataclasses
import functools
import hashlib
import json

import numpy as np

from .errors import SignalError

#: Samples are expected in [-1, 1]; this is 120 dB above full scale. Beyond it the float32
#: power spectrum would overflow, so such an array is refused rather than turned into Inf.
MAX_AMPLITUDE = 1e6


@dataclasses.dataclass(frozen=True)
class FeatureConfig:
    """Everything that decides the numbers a model sees. Stored in the bundle manifest."""

    sample_rate: int = 16000
    n_fft: int = 512
    win_length: int = 400  # 25 ms
    hop_length: int = 160  # 10 ms -> 100 frames per second
    n_mels: int = 64
    fmin: float = 50.0
    fmax: float = 8000.0
    n_mfcc: int = 20
    mfcc_deltas: bool = True
    n_chroma: int = 12
    energy: bool = True
    #: voicing strength and F0 (semitones re 100 Hz) from the normalised autocorrelation
    pitch: bool = True
    pitch_win_length: int = 640  # 40 ms: two periods of the lowest F0
    pitch_fmin: float = 60.0
    pitch_fmax: float = 500.0
    #: unused since the speech detector (ser_engine.vad) replaced the energy rule; kept so the
    #: manifests of earlier bundles still load
    speech_top_db: float = 40.0
    #: spectral contrast (peak minus valley, dB) in this many octave bands from
    #: ``contrast_fmin`` plus the band below it (librosa's definition); 0 = off
    contrast_bands: int = 0
    contrast_fmin: float = 200.0

    def __post_init__(self):
        if self.contrast_bands and self.contrast_fmin * 2 ** self.contrast_bands > self.sample_rate / 2:
            raise ValueError(f"spectral contrast: {self.contrast_bands} octaves from {self.contrast_fmin:g} Hz "
                             f"exceed the Nyquist frequency ({self.sample_rate / 2:g} Hz)")

    @property
    def n_features(self):
        return (self.n_mels + self.n_mfcc * (2 if self.mfcc_deltas else 1) + self.n_chroma + int(self.energy)
                + 2 * int(self.pitch) + (self.contrast_bands + 1 if self.contrast_bands else 0))

    @property
    def frame_rate(self):
        return self.sample_rate / self.hop_length

    def feature_names(self):
        names = [f"logmel_{i}" for i in range(self.n_mels)]
        names += [f"mfcc_{i}" for i in range(self.n_mfcc)]
        if self.mfcc_deltas:
            names += [f"mfcc_delta_{i}" for i in range(self.n_mfcc)]
        names += [f"chroma_{i}" for i in range(self.n_chroma)]
        if self.energy:
            names.append("log_energy")
        if self.pitch:
            names += ["voicing", "f0_semitones"]
        if self.contrast_bands:
            names += [f"contrast_{i}" for i in range(self.contrast_bands + 1)]
        return names

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown feature settings: {sorted(unknown)}")
        return cls(**data)

    def digest(self):
        """A short hash of the settings, part of every feature-cache key."""
        settings = self.to_dict()
        if not self.contrast_bands:  # off: the digest from before the option existed, so caches stay valid
            del settings["contrast_bands"], settings["contrast_fmin"]
        blob = json.dumps(settings, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def filter_banks(*, config):
    """The mel and chroma filter banks of ``config``, from librosa (imports it: ~1 s).

    Returns
    -------
    mel : np.ndarray [shape=(n_mels, 1 + n_fft // 2), dtype=float32]
    chroma : np.ndarray [shape=(n_chroma, 1 + n_fft // 2), dtype=float32]
    """
    mel, chroma = _librosa_banks(config)
    return mel.copy(), chroma.copy()


@functools.lru_cache(maxsize=8)
def _librosa_banks(config):
    import librosa

    mel = librosa.filters.mel(sr=config.sample_rate, n_fft=config.n_fft, n_mels=config.n_mels,
                              fmin=config.fmin, fmax=config.fmax).astype(np.float32)
    chroma = librosa.filters.chroma(sr=config.sample_rate, n_fft=config.n_fft, n_chroma=config.n_chroma,
                                    tuning=0.0).astype(np.float32)
    return mel, chroma


@functools.lru_cache(maxsize=8)
def _analysis_window(config):
    window = np.zeros(config.n_fft, np.float32)
    start = (config.n_fft - config.win_length) // 2
    window[start:start + config.win_length] = np.hanning(config.win_length + 1)[:-1]  # periodic Hann
    return window


def check_banks(banks, *, config):
    """``(mel, chroma)`` as float32 if their shapes fit ``config``, else ``ValueError``."""
    mel, chroma = banks
    n_bins = 1 + config.n_fft // 2
    if mel.shape != (config.n_mels, n_bins) or chroma.shape != (config.n_chroma, n_bins):
        raise ValueError(f"filter banks of shapes {mel.shape} and {chroma.shape} do not fit the feature settings")
    return np.asarray(mel, np.float32), np.asarray(chroma, np.float32)


@functools.lru_cache(maxsize=8)
def _dct_matrix(n_in, n_out):
    # Orthonormal DCT-II, the transform librosa.feature.mfcc applies to log-mel.
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    m = np.cos(np.pi / n_in * (n + 0.5) * k) * np.sqrt(2.0 / n_in)
    m[0] /= np.sqrt(2.0)
    return m.astype(np.float32)


def scipy_fft():
    """:mod:`scipy.fft`, imported on first use. Its float32 transforms are 3-7x faster here
    than numpy.fft's (which compute in float64), but importing it costs 0.1-0.4 s, which the
    window's start-up should not pay."""
    import scipy.fft

    return scipy.fft


def n_frames(n_samples, *, config):
    """Number of feature frames for a signal of ``n_samples`` (``center=True`` framing)."""
    return 1 + n_samples // config.hop_length


def _frames(y, *, hop, width, start_frame, stop_frame):
    """Frames ``[start_frame, stop_frame)`` of ``width`` samples, frame ``t`` centred on
    sample ``t * hop``, zero-padded beyond the signal (librosa's ``center=True``).

    Returns
    -------
    frames : np.ndarray [shape=(stop_frame - start_frame, width)], a strided view
    """
    half = width // 2
    lo = start_frame * hop - half
    hi = (stop_frame - 1) * hop - half + width
    seg = np.zeros(max(hi - lo, width), np.float32)
    a, b = max(lo, 0), min(hi, len(y))
    if b > a:
        seg[a - lo:b - lo] = y[a:b]
    return np.lib.stride_tricks.sliding_window_view(seg, width)[::hop][:stop_frame - start_frame]


def power_spectrum(y, *, config, start_frame=0, stop_frame=None):
    """Power spectrogram frames ``[start_frame, stop_frame)`` of ``y``.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    config : FeatureConfig
    start_frame, stop_frame : int
        Frame range; frame ``t`` is centred on sample ``t * hop_length``.

    Returns
    -------
    S : np.ndarray [shape=(frames, 1 + n_fft // 2), dtype=float32]
    """
    stop_frame = _stop(len(y), config, stop_frame)
    frames = _frames(y, hop=config.hop_length, width=config.n_fft, start_frame=start_frame, stop_frame=stop_frame)
    window = _analysis_window(config)
    spec = scipy_fft().rfft(frames * window, axis=1)
    return (spec.real ** 2 + spec.imag ** 2).astype(np.float32)


def _stop(n_samples, config, stop_frame):
    total = n_frames(n_samples, config=config)
    return total if stop_frame is None else min(stop_frame, total)


_OCTAVE_COST = 0.01  # per octave, Praat's default


@functools.lru_cache(maxsize=8)
def _pitch_window(config):
    win = config.pitch_win_length
    n_fft = 1 << int(np.ceil(np.log2(win + config.sample_rate / config.pitch_fmin)))  # no circular wrap
    w = np.hanning(win + 1)[:-1].astype(np.float32)
    spec = np.fft.rfft(w, n_fft)
    w_acf = np.fft.irfft(spec.real ** 2 + spec.imag ** 2, n_fft)
    return w, n_fft, (w_acf / w_acf[0]).astype(np.float32)


def pitch_track(y, *, config, start_frame=0, stop_frame=None):
    """Voicing strength and F0 per frame, from the normalised autocorrelation.

    Boersma's method (1993) without the Viterbi path: the autocorrelation of the
    windowed frame divided by the window's own autocorrelation, whose highest peak
    between ``pitch_fmax`` and ``pitch_fmin`` gives the period (refined by a parabola)
    and, by its height, the voicing strength. It reuses the FFT framing of the other
    features and costs about one extra FFT per frame, against librosa's ``yin`` at
    ~25x real time here, which would dominate the analysis of long recordings.

    Returns
    -------
    voicing : np.ndarray [shape=(frames,), dtype=float32], in [0, 1]
    f0 : np.ndarray [shape=(frames,), dtype=float32]
        Semitones relative to 100 Hz; meaningful where ``voicing`` is high.
    """
    stop_frame = _stop(len(y), config, stop_frame)
    w, n_fft, w_acf = _pitch_window(config)
    frames = _frames(y, hop=config.hop_length, width=len(w), start_frame=start_frame, stop_frame=stop_frame)
    frames = frames - frames.mean(axis=1, keepdims=True)
    spec = scipy_fft().rfft(frames * w, n_fft, axis=1)
    acf = scipy_fft().irfft(spec.real ** 2 + spec.imag ** 2, n_fft, axis=1)
    lo = int(config.sample_rate // config.pitch_fmax)
    hi = int(np.ceil(config.sample_rate / config.pitch_fmin))
    r = acf[:, lo - 1:hi + 2] / np.maximum(acf[:, :1], 1e-12) / w_acf[lo - 1:hi + 2]
    # Praat's octave cost: a small bonus for shorter lags, so that the peak at two
    # periods (equally high on a steady vowel) does not halve the F0.
    lags = np.arange(lo - 1, hi + 2, dtype=np.float32)
    bonus = _OCTAVE_COST * np.log2(config.sample_rate / (config.pitch_fmin * lags))
    k = 1 + (r + bonus)[:, 1:-1].argmax(axis=1)
    rows = np.arange(len(k))
    a, b, c = r[rows, k - 1], r[rows, k], r[rows, k + 1]
    curve = a - 2 * b + c
    shift = np.where(curve < -1e-9, 0.5 * (a - c) / np.where(curve < -1e-9, curve, -1.0), 0.0)
    lag = lo - 1 + k + np.clip(shift, -0.5, 0.5)
    voicing = np.clip(b, 0.0, 1.0)
    f0 = 12.0 * np.log2(config.sample_rate / lag / 100.0)
    return voicing.astype(np.float32), f0.astype(np.float32)


def compute_features(y, *, config, banks=None, block_frames=6000):
    """Frame-level feature matrix of a mono signal.

    Parameters
    ----------
    y : np.ndarray [shape=(n,), dtype=float32]
        Mono audio at ``config.sample_rate``.
    config : FeatureConfig
    banks : tuple (mel, chroma) of np.ndarray or None
        The filter banks of ``config`` (as :func:`filter_banks` returns them, e.g. stored
        in a model bundle); ``None`` computes them with librosa.
    block_frames : int
        Frames computed at a time (60 s by default) to bound memory on long signals;
        the result does not depend on it.

    Returns
    -------
    X : np.ndarray [shape=(frames, config.n_features), dtype=float32]
        Columns in the order of ``config.feature_names()``: log-mel (dB), MFCC,
        MFCC deltas, chroma (max-normalised per frame), log-energy (dB), voicing, F0,
        spectral contrast (dB).
    """
    y = check_signal(y)
    mel_fb, chroma_fb = _librosa_banks(config) if banks is None else check_banks(banks, config=config)
    dct = _dct_matrix(config.n_mels, config.n_mfcc)
    total = n_frames(len(y), config=config)
    parts = []
    for start in range(0, total, block_frames):
        power = power_spectrum(y, config=config, start_frame=start, stop_frame=start + block_frames)
        log_mel = 10.0 * np.log10(np.maximum(power @ mel_fb.T, 1e-10))
        cols = [log_mel, log_mel @ dct.T]
        if config.n_chroma:
            chroma = power @ chroma_fb.T
            peak = chroma.max(axis=1, keepdims=True)
            cols.append(np.divide(chroma, peak, out=np.zeros_like(chroma), where=peak > 1e-10))
        if config.energy:
            cols.append(10.0 * np.log10(np.maximum(power.sum(axis=1, keepdims=True), 1e-10)))
        if config.pitch:
            voicing, f0 = pitch_track(y, config=config, start_frame=start, stop_frame=start + block_frames)
            cols.append(np.stack([voicing, f0], axis=1))
        if config.contrast_bands:
            cols.append(spectral_contrast(power, config=config))
        parts.append(cols)
    log_mel = np.concatenate([p[0] for p in parts])
    mfcc = np.concatenate([p[1] for p in parts])
    out = [log_mel, mfcc]
    if config.mfcc_deltas:
        out.append(_delta(mfcc))
    out.extend(np.concatenate([p[i] for p in parts]) for i in range(2, len(parts[0])))
    return np.concatenate(out, axis=1).astype(np.float32)


def check_signal(y):
    """``y`` as a 1-D float32 array, or :class:`~ser_engine.errors.SignalError` saying why not.

    Refused: more than one dimension (a multi-channel array: down-mix it first), NaN or Inf,
    and samples beyond :data:`MAX_AMPLITUDE`. Any length is accepted, 0 included.
    """
    try:
        y = np.asarray(y, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise SignalError(f"the signal is not an array of numbers ({exc})") from None
    if y.ndim != 1:
        raise SignalError(f"the signal must be mono (1-D); got an array of shape {y.shape}")
    if len(y):
        peak = float(np.max(np.abs(y)))  # NaN propagates through max
        if not np.isfinite(peak):
            raise SignalError("the signal contains non-finite samples (NaN or Inf)")
        if peak > MAX_AMPLITUDE:
            raise SignalError(f"the signal's samples reach {peak:.3g}; audio is expected in [-1, 1]")
    return y


def _delta(x, width=9):
    """First-order regression deltas along time (librosa's formula), edge-padded.

    Parameters
    ----------
    x : np.ndarray [shape=(frames, d)]

    Returns
    -------
    dx : np.ndarray [shape=(frames, d)]
    """
    half = width // 2
    padded = np.pad(x, ((half, half), (0, 0)), mode="edge")
    weights = np.arange(-half, half + 1, dtype=np.float32)
    out = np.zeros_like(x)
    n = len(x)
    for k, w in enumerate(weights):
        if w:
            out += w * padded[k:k + n]
    return out / float((weights ** 2).sum())


def _contrast_bands(config):
    """The spectral-contrast sub-bands as librosa draws them, ``[(bins, counted), ...]``: the
    band below ``contrast_fmin``, then octaves, each with the bin below its lower edge, the
    last one up to the Nyquist frequency; all but the last lose their top bin, which
    ``counted`` (the size the quantile is taken of) still includes."""
    freq = np.linspace(0, config.sample_rate / 2, 1 + config.n_fft // 2)
    edges = np.zeros(config.contrast_bands + 2)
    edges[1:] = config.contrast_fmin * 2.0 ** np.arange(config.contrast_bands + 1)
    bands = []
    for k, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        band = (freq >= lo) & (freq <= hi)
        idx = np.flatnonzero(band)
        if k > 0:
            band[idx[0] - 1] = True
        if k == config.contrast_bands:
            band[idx[-1] + 1:] = True
        counted = int(band.sum())
        if k < config.contrast_bands:
            band[np.flatnonzero(band)[-1]] = False
        bands.append((band, counted))
    return bands


def spectral_contrast(power, *, config, quantile=0.02):
    """Spectral contrast per frame (dB): in each sub-band, the mean of the loudest ``quantile``
    of bins over the mean of the quietest, on magnitudes (librosa's
    ``feature.spectral_contrast`` without its whole-array ``top_db`` clip, which would make a
    frame depend on the rest of the recording).

    Parameters
    ----------
    power : np.ndarray [shape=(frames, 1 + n_fft // 2)]

    Returns
    -------
    contrast : np.ndarray [shape=(frames, contrast_bands + 1)]
    """
    magnitude = np.sqrt(np.maximum(power, 0.0))
    cols = []
    for band, counted in _contrast_bands(config):
        n = max(int(np.rint(quantile * counted)), 1)
        ordered = np.sort(magnitude[:, band], axis=1)
        valley, peak = ordered[:, :n].mean(axis=1), ordered[:, -n:].mean(axis=1)
        cols.append(10.0 * np.log10(np.maximum(peak, 1e-10)) - 10.0 * np.log10(np.maximum(valley, 1e-10)))
    return np.stack(cols, axis=1)


def frame_energy(X, *, config):
    """Log-energy (dB) of each frame, from the energy column or the log-mel columns.

    Returns
    -------
    energy : np.ndarray [shape=(frames,)]
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != config.n_features:
        raise SignalError(f"features of shape {X.shape} do not fit the settings ({config.n_features} per frame)")
    if config.energy:
        return X[:, config.n_mels + config.n_mfcc * (2 if config.mfcc_deltas else 1) + config.n_chroma]
    return 10.0 * np.log10(np.maximum((10.0 ** (X[:, :config.n_mels] / 10.0)).sum(axis=1), 1e-10))
