"""Voice activity that holds in rooms, and the signal-to-noise ratio of what it finds.

The detector (:class:`SpeechDetector`, :func:`speech_mask` for a whole signal) is an adaptive
noise-floor rule on the energy of the speech band, chosen by measurement against a trained
model (Silero VAD), webrtcvad and the energy rule it replaces (docs/vad.md, BENCHMARKS.md
"Voice activity in rooms"). It is fed consecutive 16 kHz mono blocks of any size and gives a
boolean mask at the feature frame rate: frame ``i`` is centred on sample ``i * hop_length``
and there are ``1 + n_samples // hop_length`` frames, as :func:`ser_engine.features.n_frames`.

How it decides, per frame (all levels in dB):

1. **Band energy.** The samples minus their 32-sample moving average (a high-pass that keeps
   speech above ~500 Hz and removes the rumble of brown noise, which otherwise rises and falls
   by more than speech does), squared and summed over the 20 ms centred on the frame.
2. **Floor.** The energy averaged over 0.11 s (``short``) and over 0.61 s (``long``); the
   floor is the lowest short-average energy within ``window`` seconds on either side.
3. **Unsteadiness.** ``v``: the mean height above the floor of the frames within 6 dB of it,
   in the same window. Steady noise (fans, hum) gives ``v`` below 2 dB; babble 4 dB or more.
4. **Speech.** A frame is speech when its short energy is ``low_db + v`` above the floor and
   it lies within 0.03 s of a *core*: frames whose short *and* long energies are
   ``core_db + core_per_v * v`` above the floor (babble rises briefly, a voice near the
   microphone for syllables on end). A stretch needs ``min_core`` seconds of core frames
   whose own (unaveraged) energy is that loud too, so clicks, which the averages spread over
   a dozen frames, are not speech; and no frame more than ``range_db`` below the loudest
   long-average energy within the window is speech (reverberation tails, rustle in a quiet
   file's silences), nor more than ``local_range_db`` below the loudest within
   ``local_window`` seconds (the ends of a loud voice ringing into a pause, the babble just
   after it). ``range_db`` is no tighter because a second, quieter voice in the same
   room must stay speech (of a speaker 25 dB below another, 27 of 30 clips were found at 35 dB
   and 17 at 30 dB).

Everything is computed from per-frame values (16 bytes per 10 ms: 5.8 MB for an hour); the
samples are never kept. The block sums are taken on a fixed grid of hops, so the mask does not
depend on the block sizes: streamed and one-pass masks are identical (tests).

The signal-to-noise ratio (:func:`snr_db`) compares the full-band power of speech frames with
that of the non-speech frames around them (module docstring of :func:`snr_db`).
"""

import dataclasses

import numpy as np

from .errors import SignalError

#: Samples of the moving average subtracted before the band energy (2 ms at 16 kHz).
MA_TAPS = 32
#: Power below this (per 20 ms frame) is digital silence: -100 dB.
_FLOOR_POWER = 1e-10
#: Labels of stretches whose speech is less than this many dB above the noise around it are
#: uncertain. BENCHMARKS.md "Voice activity in rooms": the shipped ensemble's fold models (3 seeds)
#: on held-out actors' room sessions, found clips pooled by their segment's SNR (clean,
#: steady-noise and babble rooms): accuracy stays within 10 points of the clean room's (73%) from
#: 5 dB up (66% at 5-10 dB, 71% at 10-15 dB) and falls to 58% below. (The model before the speech
#: encoder fell from 15 dB.) Reverberation is not noise: it lowers accuracy without lowering this
#: estimate.
SNR_UNCERTAIN_DB = 5.0


def too_noisy(snr_db):
    """Whether speech this far above the noise around it (dB; None: not measured) is too noisy
    for its labels to be trusted (:data:`SNR_UNCERTAIN_DB`)."""
    return snr_db is not None and snr_db < SNR_UNCERTAIN_DB


#: A recording whose speech is less than this many dB above its noise may hold speech the
#: detector does not find: a speaker's quiet utterances lie under a loud room's noise, show as
#: "no speech", and the share of speech time leans to the loud emotions. bench_rooms sessions
#: (one gain per speaker, five held-out actors): at recording SNRs of 7-23 dB (pink, brown and
#: babble noise 20/10/5 dB below the speaker's mean level) 20-100% of the clips were found
#: (pink 10 dB: 1 of 40 calm clips, 37 of 40 angry); from 25 dB (rooms 25-35 dB below) four
#: speakers of five had 95-100% found, the fifth 67-90%; quiet rooms and reverberation read
#: 39-60 dB.
SNR_QUIET_MISSED_DB = 25.0


def quiet_speech_note(snr_db):
    """What a user should know about a recording whose speech is ``snr_db`` above its noise
    (None: not measured): a sentence when quiet speech may have gone unfound
    (:data:`SNR_QUIET_MISSED_DB`), else None."""
    if snr_db is None or snr_db >= SNR_QUIET_MISSED_DB:
        return None
    return (f"noisy room (speech {snr_db:.0f} dB above the noise, below {SNR_QUIET_MISSED_DB:.0f} dB): quiet speech "
            "may be missed and shown as \"no speech\", so the shares may lean to the loud emotions")


#: The SNR of speech in digital silence (no noise to measure) is reported as this.
SNR_MAX_DB = 60.0


@dataclasses.dataclass(frozen=True)
class DetectorSettings:
    """The rule's constants (module docstring). Times in seconds, levels in dB.

    Chosen on sessions of actors 03, 06, 11 and 18 in eleven rooms and checked on other
    actors (docs/vad.md); changing one changes every figure there.
    """

    short: float = 0.05
    long: float = 0.3
    window: float = 8.0
    low_db: float = 1.0
    core_db: float = 1.5
    core_per_v: float = 1.75
    steady_cap_db: float = 6.0
    reach: float = 0.03
    min_core: float = 0.05
    range_db: float = 35.0
    local_range_db: float = 20.0
    local_window: float = 0.5


class SpeechDetector:
    """Streamed voice activity: ``feed`` blocks, then ``finish`` for the frame mask.

    Parameters
    ----------
    sample_rate : int
        Only 16000 (the engine's rate; the band filter and frames are fixed in samples).
    hop_length : int
        Samples per frame step (160: 10 ms, the feature frame rate).
    settings : DetectorSettings

    Examples
    --------
    >>> det = SpeechDetector()
    >>> for block in blocks:            # any sizes
    ...     det.feed(block)
    >>> mask = det.finish()             # bool [1 + n_samples // 160]
    >>> det.snr_db(lo, hi)              # SNR of frames [lo, hi)
    """

    def __init__(self, *, sample_rate=16000, hop_length=160, settings=DetectorSettings()):
        if int(sample_rate) != 16000:
            raise ValueError(f"the speech detector works at 16000 Hz, not {sample_rate}")
        if int(hop_length) <= MA_TAPS:
            raise ValueError(f"hop_length must exceed {MA_TAPS} samples, not {hop_length}")
        self.sample_rate = int(sample_rate)
        self.hop = int(hop_length)
        self.settings = settings
        self.n_samples = 0
        # the MA_TAPS - 1 samples before the pending ones (zeros before the signal), then the
        # samples not yet making a whole hop
        self._pending = np.zeros(MA_TAPS - 1, np.float32)
        self._band, self._full = [], []
        self._mask = None
        self._power = None
        self._band_db = None

    # -- streaming ---------------------------------------------------------------------

    def feed(self, block):
        """Add the next samples.

        Parameters
        ----------
        block : np.ndarray [shape=(n,)]
            Mono samples at 16 kHz (float; any length, 0 included).

        Raises
        ------
        SignalError
            Not one-dimensional, not numeric, or holding NaN or infinite samples.
        ValueError
            Fed after :meth:`finish`.
        """
        if self._mask is not None:
            raise ValueError("the speech detector is finished; start a new one")
        y = _checked_block(block)
        if not len(y):
            return
        self.n_samples += len(y)
        buf = np.concatenate([self._pending, y])
        k = (len(buf) - (MA_TAPS - 1)) // self.hop
        if k:
            self._take_hops(buf, k)
            buf = buf[k * self.hop:]
        self._pending = buf

    def finish(self):
        """The speech mask of everything fed.

        Returns
        -------
        mask : np.ndarray [shape=(1 + n_samples // hop_length,), dtype=bool]
            Empty when nothing was fed.
        """
        if self._mask is not None:
            return self._mask.copy()
        n_frames = 1 + self.n_samples // self.hop if self.n_samples else 0
        # the last frame reaches half a frame past the end: pad the open hop with zeros
        rest = len(self._pending) - (MA_TAPS - 1)
        need = n_frames - sum(len(b) for b in self._band)
        if need > 0:
            buf = np.concatenate([self._pending, np.zeros(need * self.hop - rest, np.float32)])
            self._take_hops(buf, need)
        band = np.concatenate(self._band)[:n_frames] if self._band else np.zeros(0)
        full = np.concatenate(self._full)[:n_frames] if self._full else np.zeros(0)
        self._band, self._full = [], []
        self._power = _frame_sums(full)
        self._band_db = _db(_frame_sums(band))
        self._mask = decide(self._band_db, rate=self.sample_rate / self.hop, settings=self.settings)
        return self._mask.copy()

    def _take_hops(self, buf, k):
        """Band and full-band sums of squares of ``k`` whole hops; ``buf`` starts with the
        ``MA_TAPS - 1`` samples before the first. Each hop is computed from its own samples
        only, so the result does not depend on where blocks were cut."""
        L, hop = MA_TAPS, self.hop
        rows = np.lib.stride_tricks.sliding_window_view(buf[:k * hop + L - 1], hop + L - 1)[::hop][:k]
        # float32 throughout (half the memory traffic of float64; a hop's sums of 191 samples lose
        # nothing that matters at the dB resolution of the rule), sums of squares in float64
        c = np.zeros((k, hop + L), np.float32)
        np.cumsum(rows, axis=1, out=c[:, 1:])
        high = rows[:, L - 1:] - (c[:, L:] - c[:, :hop]) * np.float32(1.0 / L)
        self._band.append(np.einsum("ij,ij->i", high, high, dtype=np.float64))
        x = rows[:, L - 1:]
        self._full.append(np.einsum("ij,ij->i", x, x, dtype=np.float64))

    # -- after finish ---------------------------------------------------------------------

    @property
    def frame_power(self):
        """Full-band power of each frame (sum of squares over its 20 ms), after :meth:`finish`.

        Returns
        -------
        np.ndarray [shape=(n_frames,), dtype=float64]
        """
        if self._power is None:
            raise ValueError("call finish() first")
        return self._power

    @property
    def band_db(self):
        """Band energy (dB) of each frame, the detector's input (step 1), after :meth:`finish`.

        Returns
        -------
        np.ndarray [shape=(n_frames,), dtype=float64]
        """
        if self._band_db is None:
            raise ValueError("call finish() first")
        return self._band_db

    def snr_meter(self):
        """A :class:`SnrMeter` over this recording (after :meth:`finish`)."""
        return SnrMeter(self.frame_power, self._mask, rate=self.sample_rate / self.hop, window=self.settings.window)

    def snr_db(self, lo=0, hi=None):
        """:func:`snr_db` of frames ``[lo, hi)`` (default: the whole recording)."""
        return self.snr_meter()(lo, hi)


def speech_mask(y, *, sample_rate=16000, hop_length=160, settings=DetectorSettings()):
    """The :class:`SpeechDetector` mask of a whole signal in memory (a clip): identical to
    feeding it in blocks.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]

    Returns
    -------
    mask : np.ndarray [shape=(1 + n // hop_length,), dtype=bool]
        Empty for an empty signal.
    """
    det = SpeechDetector(sample_rate=sample_rate, hop_length=hop_length, settings=settings)
    det.feed(y)
    return det.finish()


def _checked_block(block):
    try:
        y = np.asarray(block)
    except Exception as exc:  # ragged lists and the like
        raise SignalError(f"audio samples could not be read as an array ({exc})") from None
    if y.ndim != 1:
        raise SignalError(f"audio must be mono, one-dimensional samples, not shape {y.shape}")
    if y.dtype.kind not in "fiu":
        raise SignalError(f"audio samples must be numbers, not {y.dtype}")
    y = y.astype(np.float32, copy=False)
    if len(y) and not np.isfinite(y).all():
        raise SignalError("audio holds NaN or infinite samples")
    return y


def _frame_sums(hops):
    """Per frame ``i``: hops ``i - 1`` and ``i`` (the 2 hops centred on sample ``i * hop``)."""
    out = hops.copy()
    out[1:] += hops[:-1]
    return out


def _db(power):
    return 10.0 * np.log10(np.maximum(power, _FLOOR_POWER))


def _smooth_db(e, half):
    """Mean power (as dB) over ``2 * half + 1`` frames around each frame."""
    from scipy.ndimage import uniform_filter1d

    if half < 1:
        return e
    p = uniform_filter1d(10.0 ** (e / 10.0), 2 * half + 1, mode="nearest")
    return _db(p)


@dataclasses.dataclass
class FloorLevels:
    """The per-frame levels the rule compares (dB; arrays of shape (n_frames,)).

    Attributes
    ----------
    short, long : short- and long-average band energy.
    floor : the lowest short-average energy within the window.
    height, long_height : their heights above the floor (the lowest within the window).
    unsteadiness : ``v``, the mean height of the frames near the floor, within the window.
    top : the loudest long-average energy within the window.
    """

    short: np.ndarray
    long: np.ndarray
    floor: np.ndarray
    height: np.ndarray
    long_height: np.ndarray
    unsteadiness: np.ndarray
    top: np.ndarray


def floor_levels(energy_db, *, rate=100.0, settings=DetectorSettings()):
    """:class:`FloorLevels` of band energies (dB), one per frame (steps 2 and 3 of the module
    docstring)."""
    from scipy.ndimage import maximum_filter1d, minimum_filter1d, uniform_filter1d

    e = np.asarray(energy_db, np.float64)
    s = settings
    span = 2 * max(int(round(s.window * rate)), 1) + 1
    short = _smooth_db(e, int(round(s.short * rate)))
    long = _smooth_db(e, int(round(s.long * rate)))
    floor = minimum_filter1d(short, span, mode="nearest")
    height = short - floor
    long_height = long - minimum_filter1d(long, span, mode="nearest")
    near = height < s.steady_cap_db
    count = uniform_filter1d(near.astype(np.float64), span, mode="nearest")
    v = uniform_filter1d(np.where(near, height, 0.0), span, mode="nearest") / np.maximum(count, 1e-9)
    top = maximum_filter1d(long, span, mode="nearest")
    return FloorLevels(short, long, floor, height, long_height, v, top)


def decide(energy_db, *, rate=100.0, settings=DetectorSettings()):
    """The rule of the module docstring on band energies (dB), one per frame.

    Parameters
    ----------
    energy_db : np.ndarray [shape=(n_frames,)]
    rate : float
        Frames per second.

    Returns
    -------
    mask : np.ndarray [shape=(n_frames,), dtype=bool]
    """
    from scipy.ndimage import maximum_filter1d

    if len(energy_db) == 0:
        return np.zeros(0, bool)
    s = settings
    lv = floor_levels(energy_db, rate=rate, settings=s)
    local = 2 * max(int(round(s.local_window * rate)), 1) + 1
    loud_enough = ((lv.short >= lv.top - s.range_db)
                   & (lv.short >= maximum_filter1d(lv.long, local, mode="nearest") - s.local_range_db))
    core_db = s.core_db + s.core_per_v * lv.unsteadiness
    core = (lv.long_height >= core_db) & (lv.height >= core_db) & loud_enough
    reach = int(round(s.reach * rate))
    near_core = maximum_filter1d(core.astype(np.int8), 2 * reach + 1, mode="constant") > 0
    mask = (lv.height >= s.low_db + lv.unsteadiness) & loud_enough & near_core
    # counted only where the frame itself, not just its neighbourhood, is that loud: the
    # averages spread a 2 ms click over a dozen frames, a syllable stays loud for many
    counted = core & (np.asarray(energy_db) - lv.floor >= core_db)
    return _keep_runs(mask, counted, min_count=max(int(round(s.min_core * rate)), 1))


def _keep_runs(mask, core, *, min_count):
    """``mask`` without its runs that hold fewer than ``min_count`` ``core`` frames."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    counted = np.concatenate([[0], np.cumsum(core & mask)])
    ok = counted[ends] - counted[starts] >= min_count
    change = np.zeros(len(mask) + 1, np.int64)
    np.add.at(change, starts[ok], 1)
    np.add.at(change, ends[ok], -1)
    return np.cumsum(change[:-1]) > 0


# -- signal-to-noise ratio ------------------------------------------------------------------


def noise_power(power, mask, *, rate=100.0, window=8.0, guard=0.2):
    """The noise power around each frame: the mean full-band power of the non-speech frames
    within ``window`` seconds, leaving out those within ``guard`` seconds of speech (word
    endings, reverberation tails).

    Parameters
    ----------
    power : np.ndarray [shape=(n_frames,)]
        :attr:`SpeechDetector.frame_power`.
    mask : np.ndarray [shape=(n_frames,), dtype=bool]

    Returns
    -------
    noise : np.ndarray [shape=(n_frames,)]
        NaN where no non-speech frame lies within the window.
    """
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    power = np.asarray(power, np.float64)
    mask = np.asarray(mask, bool)
    if len(power) != len(mask):
        raise ValueError(f"{len(power)} frame powers but a mask of {len(mask)} frames")
    if not len(power):
        return np.zeros(0)
    g = int(round(guard * rate))
    quiet = ~(maximum_filter1d(mask.astype(np.int8), 2 * g + 1, mode="constant") > 0) if g else ~mask
    span = 2 * max(int(round(window * rate)), 1) + 1
    count = uniform_filter1d(quiet.astype(np.float64), span, mode="constant") * span
    total = uniform_filter1d(np.where(quiet, power, 0.0), span, mode="constant") * span
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(count > 0.5, total / np.maximum(count, 1e-12), np.nan)
    return np.maximum(out, 0.0)


class SnrMeter:
    """Signal-to-noise ratios of stretches of one recording, with the noise around every frame
    computed once (:func:`noise_power`): for the segments of a long recording.

    Parameters
    ----------
    power : np.ndarray [shape=(n_frames,)]
        :attr:`SpeechDetector.frame_power`.
    mask : np.ndarray [shape=(n_frames,), dtype=bool]
    rate : float
        Frames per second.
    window : float
        Seconds on either side whose non-speech frames measure the noise.
    """

    def __init__(self, power, mask, *, rate=100.0, window=8.0):
        self.power = np.asarray(power, np.float64)
        self.mask = np.asarray(mask, bool)
        self.noise = noise_power(self.power, self.mask, rate=rate, window=window)

    def __call__(self, lo=0, hi=None):
        """:func:`snr_db` of frames ``[lo, hi)``."""
        hi = len(self.power) if hi is None else min(int(hi), len(self.power))
        lo = max(int(lo), 0)
        sel = np.flatnonzero(self.mask[lo:hi]) + lo
        noise = self.noise[sel]
        noise = noise[np.isfinite(noise)]
        if not len(sel) or not len(noise):
            return None
        n, s = float(noise.mean()), float(self.power[sel].mean())
        if n <= s * 10 ** (-SNR_MAX_DB / 10):
            return SNR_MAX_DB
        return float(np.clip(10.0 * np.log10(max(s - n, 1e-30) / n), -20.0, SNR_MAX_DB))


def snr_db(power, mask, *, lo=0, hi=None, rate=100.0, window=8.0):
    """Signal-to-noise ratio (dB) of the speech in frames ``[lo, hi)``.

    Method: ``S`` is the mean full-band power of the speech frames of the stretch, ``N`` the
    mean of :func:`noise_power` over the same frames (the non-speech frames within ``window``
    seconds of each); speech frames hold speech plus noise, so the ratio is
    ``(S - N) / N``. The same definition as the benchmark's mixing (speech power over noise
    power), so a recording mixed at 10 dB reads about 10 dB (tests).

    Returns
    -------
    float or None
        None when the stretch has no speech frame, or no non-speech frame lies near enough
        to measure the noise; :data:`SNR_MAX_DB` in digital silence; at least -20 dB.
    """
    return SnrMeter(power, mask, rate=rate, window=window)(lo, hi)


def stretch_snrs(power, mask, stretches, *, rate=100.0, window=8.0):
    """:func:`snr_db` of each frame range ``[(lo, hi), ...]`` (segments), through one
    :class:`SnrMeter`.

    Returns
    -------
    list of (float or None)
    """
    meter = SnrMeter(power, mask, rate=rate, window=window)
    return [meter(lo, hi) for lo, hi in stretches]
