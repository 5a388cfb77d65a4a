"""Who is speaking: speaker turns of a recording, from what the analysis already computes.

Every stretch of speech gets a speaker (S1, S2, ... numbered by first appearance), found
offline on the CPU with no model beyond a small linear map (``resources/speakers/space.npz``).
How it works, and why this method (docs/speakers.md has the measurements):

1. **Blocks.** The feature frames of each speech region are summed in blocks of
   ``block_seconds`` (1 s) from the region's start: MFCC 1..n, their squares and deltas, the
   log-mel spectrum's shape (each frame less its mean over bands) over the block's loud
   frames, and F0 over its voiced frames; with a speech-encoder front end, also the block's
   encoder states (:meth:`SpeakerTracker.add_states`). Only these sums are kept (146 floats
   per second of speech, 384 more with states): never the audio, never the frames, so an
   hour is a few megabytes and the result does not depend on how the frames were handed in.
2. **Windows.** Two neighbouring blocks of one region make a window (2 s, every 1 s); its
   statistics (means and spreads, :data:`STAT_NAMES`) less the recording's mean, scaled and
   multiplied by the *speaker space*: the within-speaker whitening fitted on RAVDESS actors
   01-10 (:func:`fit_space`). The whitening shrinks the directions along which one voice
   varies with emotion and wording and stretches those along which voices differ;
   without it, the same features split an angry patient from a calm one rather than the
   patient from the clinician (docs/speakers.md). With states, the window's mean state,
   whitened the same way in its leading principal directions (the space's encoder part),
   is appended: the encoder tells voices apart where the classic statistics confuse a
   voice's emotions with a second voice, which is what makes the count hold.
3. **Clustering.** Average-linkage clustering (SciPy's, as scikit-learn's
   ``AgglomerativeClustering`` computes it) of the windows' directions in that space (cosine
   distance), at most ``max_windows`` of them evenly spread over the recording (the others
   take the nearest cluster). The number of speakers, unless given: split top-down while
   every cluster holds ``min_share`` of the windows and all lie ``threshold`` (with states
   ``threshold_with_states``) apart (:func:`separation`: centroid distance in units of the
   spread within the two-cluster split; chosen on actors 01-10); one when two clusters
   already fail.
4. **Turns.** Each block takes the speaker whose centroid its windows are closest to; a
   region's consecutive blocks of one speaker form a turn. Turns partition the speech
   regions, so emotion windows cut at them never straddle a change of speaker (a change
   inside a region is placed on a block boundary: within half a block of the truth).
"""

import dataclasses
import logging
from pathlib import Path

import numpy as np

from .errors import SerError

logger = logging.getLogger(__name__)

#: The statistics of a window, in the order the speaker space expects them.
STAT_NAMES = ("mfcc_mean", "mfcc_std", "mel_shape", "mfcc_delta_std", "f0")
SPACE_VERSION = 2
#: Space files this version reads (version 1 has no speech-encoder part).
READS_VERSIONS = (1, 2)


class SpeakerError(SerError, ValueError):
    """The speaker step was handed something it cannot use (regions, frames or settings),
    or its speaker space is missing or does not fit the features."""


@dataclasses.dataclass(frozen=True)
class SpeakerConfig:
    """How speakers are found. Times in seconds.

    Attributes
    ----------
    block_seconds : float
        Frames summed together; a change of speaker inside a region lands on a block edge.
        A region's last partial block shorter than half of this joins the block before it.
    loud_db : float
        Frames more than this below the loudest frame of their block are left out of the
        spectral statistics (the quiet ends of words carry the room, not the voice).
    min_voicing : float
        Frames at least this voiced give the F0 statistics.
    threshold : float
        Least :func:`separation` of clusters taken for different speakers when the number
        of speakers is not given, in a space of the classic statistics alone. Chosen on
        actors 01-10 (``bench/bench_speakers.py``).
    threshold_with_states : float
        The same in the space that also holds the speech encoder's states (when the
        analysis computed them and the speaker space has an encoder part).
    min_share : float
        Least share of the windows a cluster must hold to count as a speaker when the
        number is not given (a laugh or a cough is not a speaker).
    max_windows : int
        Windows clustered at most (evenly spread over the recording); the others take their
        nearest cluster. Bounds time and memory: the distance matrix grows with its square.
    max_speakers : int
        At most this many speakers are found when the number is not given.
    switch_cost : float
        Cosine similarity a change of speaker inside a speech region must gain (the
        smoothing of :func:`_block_labels`); 0 lets every block choose alone.
    """

    block_seconds: float = 1.0
    loud_db: float = 25.0
    min_voicing: float = 0.5
    threshold: float = 0.95
    threshold_with_states: float = 0.75
    min_share: float = 0.1
    max_windows: int = 1000
    max_speakers: int = 8
    switch_cost: float = 0.1


@dataclasses.dataclass(frozen=True)
class SpeakerTurns:
    """The speakers of a recording.

    Attributes
    ----------
    turns : list of (lo, hi, speaker)
        Frame ranges that partition the speech regions, in time order; ``speaker`` is the
        index into :attr:`names` (0 for S1, the first to speak).
    n_speakers : int
        0 when there is no speech.
    frame_rate : float
        Frames per second of the ranges.
    """

    turns: list
    n_speakers: int
    frame_rate: float

    @property
    def names(self) -> list[str]:
        """``["S1", "S2", ...]``, numbered by first appearance."""
        return [f"S{k + 1}" for k in range(self.n_speakers)]

    def speaking_time(self) -> list[float]:
        """Seconds of speech per speaker: list of float, one per speaker."""
        t = np.zeros(self.n_speakers)
        for lo, hi, k in self.turns:
            t[k] += (hi - lo) / self.frame_rate
        return t.tolist()

    def turn_counts(self) -> list[int]:
        """How many times each speaker takes the floor: runs of one speaker in time order,
        pauses included (a speaker who goes on after a pause keeps the floor)."""
        n = [0] * self.n_speakers
        prev = None
        for _, _, k in self.turns:
            if k != prev:
                n[k] += 1
            prev = k
        return n

    def speaker_at(self, frames) -> np.ndarray:
        """Speaker index of each frame, -1 outside speech.

        Parameters
        ----------
        frames : array-like of int [shape=(n,)]

        Returns
        -------
        np.ndarray [shape=(n,), dtype=int64]
        """
        frames = np.asarray(frames, np.int64)
        out = np.full(frames.shape, -1, np.int64)
        if not self.turns:
            return out
        starts = np.array([t[0] for t in self.turns])
        i = np.clip(np.searchsorted(starts, frames, side="right") - 1, 0, len(starts) - 1)
        ends = np.array([t[1] for t in self.turns])[i]
        inside = (frames >= starts[i]) & (frames < ends)
        out[inside] = np.array([t[2] for t in self.turns])[i][inside]
        return out

    def summary(self) -> list[dict]:
        """Per speaker: name, seconds of speech, its share of all speech, and turns.

        Returns
        -------
        list of dict with keys ``speaker``, ``speaking_time``, ``share``, ``turns``
        """
        times, counts = self.speaking_time(), self.turn_counts()
        total = sum(times) or 1.0
        return [{"speaker": name, "speaking_time": t, "share": t / total, "turns": n}
                for name, t, n in zip(self.names, times, counts, strict=True)]


# -- the speaker space ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SpeakerSpace:
    """The linear map from window statistics to the space where voices are compared.

    Attributes
    ----------
    scale : np.ndarray [shape=(n_stats,)]
        Spread of each statistic within a speaker (the statistics are divided by it).
    projection : np.ndarray [shape=(n_stats, n_dims)]
        The within-speaker whitening (:func:`fit_space`).
    feature_names : tuple of str
        The feature columns it was fitted on (``FeatureConfig.feature_names()``).
    settings : dict
        ``loud_db``, ``min_voicing`` and ``block_seconds`` it was fitted with.
    encoder : str or None
        The speech encoder whose states the encoder part reads (``EncoderSpec.name``), or
        None for a space of the classic statistics alone.
    encoder_scale : np.ndarray or None [shape=(384,)]
    encoder_projection : np.ndarray or None [shape=(384, n_encoder_dims)]
        Within-speaker whitening of windows' mean encoder states in their leading principal
        directions (:func:`fit_space`), its output appended to the classic part's.
    """

    scale: np.ndarray
    projection: np.ndarray
    feature_names: tuple
    settings: dict
    encoder: str | None = None
    encoder_scale: np.ndarray | None = None
    encoder_projection: np.ndarray | None = None

    def reads(self, encoder: str | None) -> bool:
        """Whether states of ``encoder`` (a name, or None when there are none) enter this space."""
        return encoder is not None and encoder == self.encoder

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        extra = {}
        if self.encoder is not None:
            extra = dict(encoder=np.array(self.encoder), encoder_scale=self.encoder_scale.astype(np.float32),
                         encoder_projection=self.encoder_projection.astype(np.float32))
        with open(tmp, "wb") as fh:
            np.savez(fh, version=np.array(SPACE_VERSION), scale=self.scale.astype(np.float32),
                     projection=self.projection.astype(np.float32),
                     feature_names=np.array(self.feature_names), settings_keys=np.array(list(self.settings)),
                     settings_values=np.array([float(v) for v in self.settings.values()]), **extra)
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> "SpeakerSpace":
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                if int(z["version"]) not in READS_VERSIONS:
                    raise SpeakerError(f"{path}: speaker space of version {int(z['version'])}, "
                                       f"this SER Studio reads versions {', '.join(map(str, READS_VERSIONS))}")
                encoder = {}
                if "encoder" in z.files:
                    encoder = dict(encoder=str(z["encoder"]), encoder_scale=z["encoder_scale"].astype(np.float64),
                                   encoder_projection=z["encoder_projection"].astype(np.float64))
                return cls(z["scale"].astype(np.float64), z["projection"].astype(np.float64),
                           tuple(str(n) for n in z["feature_names"]),
                           dict(zip((str(k) for k in z["settings_keys"]), z["settings_values"].tolist(), strict=True)),
                           **encoder)
        except OSError as exc:
            raise SpeakerError(f"{path}: the speaker space cannot be read ({exc}); reinstall SER Studio") from None
        except (KeyError, ValueError) as exc:
            raise SpeakerError(f"{path}: not a speaker space ({exc}); reinstall SER Studio") from None


def default_space_path() -> Path:
    from .paths import resources_dir

    return resources_dir() / "speakers" / "space.npz"


def load_space(path: str | Path | None = None) -> SpeakerSpace:
    """The shipped :class:`SpeakerSpace` (or the one at ``path``)."""
    return SpeakerSpace.load(default_space_path() if path is None else path)


def _centred(stats):
    """Window statistics less their mean; a window without voiced frames (NaN F0) takes the
    mean, as :func:`embed` treats it, so it neither moves nor spreads the fit."""
    stats = np.asarray(stats, np.float64)
    finite = np.isfinite(stats)
    counts = finite.sum(axis=0)
    mean = np.where(finite, stats, 0.0).sum(axis=0) / np.maximum(counts, 1)
    return np.where(finite, stats - mean, 0.0)


def fit_space(groups: list, *, config, shrink: float = 0.05, encoder_groups: list | None = None,
              encoder: str | None = None, encoder_dims: int = 64) -> SpeakerSpace:
    """Fit the speaker space: the whitening of the within-speaker spread of window statistics.

    Parameters
    ----------
    groups : list of np.ndarray [shape=(n_windows, n_stats)]
        Window statistics (:func:`window_stats` of :meth:`SpeakerTracker.windows`), one array
        per speaker and recording: each is centred on its own mean, so what remains is how
        one voice varies (with emotion, wording, loudness) and the whitening shrinks it.
    config : ser_engine.features.FeatureConfig
    shrink : float
        Share of the identity mixed into the correlation matrix (keeps rare directions from
        being stretched without bound).
    encoder_groups : list of np.ndarray [shape=(n_windows, 384)] or None
        The same windows' mean speech-encoder states (:meth:`SpeakerTracker.window_states`),
        one array per group, for a space with an encoder part; None for none.
    encoder : str or None
        The encoder's name (``EncoderSpec.name``), required with ``encoder_groups``.
    encoder_dims : int
        Leading principal directions of the encoder states kept before whitening: 384
        dimensions are too many to whiten from a few voices' windows.

    Returns
    -------
    SpeakerSpace
    """
    scale, projection = _whitening(groups, shrink)
    defaults = SpeakerConfig()
    extra = {}
    if encoder_groups is not None:
        if encoder is None or len(encoder_groups) != len(groups):
            raise SpeakerError("an encoder part needs the encoder's name and one array of states per group")
        extra = dict(zip(("encoder_scale", "encoder_projection"),
                         _whitening(encoder_groups, shrink, dims=encoder_dims), strict=True), encoder=encoder)
    return SpeakerSpace(scale, projection, tuple(config.feature_names()),
                        {"loud_db": defaults.loud_db, "min_voicing": defaults.min_voicing,
                         "block_seconds": defaults.block_seconds}, **extra)


def _whitening(groups, shrink, *, dims=None):
    """``(scale, projection)``: each column divided by its within-group spread, then (with
    ``dims``) the leading ``dims`` principal directions of all windows, then the inverse
    square root of the within-group correlation, shrunk towards the identity."""
    rows = [_centred(g) for g in groups if len(g) >= 2]
    if not rows:
        raise SpeakerError("fitting a speaker space needs groups of at least two windows")
    R = np.concatenate(rows)
    scale = R.std(axis=0) + 1e-6
    basis = np.eye(R.shape[1])
    if dims is not None and dims < R.shape[1]:
        A = _centred(np.concatenate([g for g in groups if len(g) >= 2])) / scale
        basis = np.linalg.svd(A, full_matrices=False)[2][:dims].T
    C = np.cov(((R / scale) @ basis).T)
    C = (1 - shrink) * C + shrink * np.eye(len(C))
    w, V = np.linalg.eigh(C)
    return scale, basis @ V @ np.diag(w ** -0.5) @ V.T


# -- blocks: the streamed part ------------------------------------------------------------


class _Columns:
    """Where the features the speaker step uses sit in a frame of ``config``."""

    def __init__(self, config):
        names = config.feature_names()
        need = ["log_energy", "voicing", "f0_semitones", "mfcc_1", "mfcc_delta_0"]
        missing = [n for n in need if n not in names]
        if missing:
            raise SpeakerError(f"the speaker step needs the features {missing}, which these settings do not compute")
        index = {n: i for i, n in enumerate(names)}
        self.n_features = len(names)
        self.mel = np.array([index[f"logmel_{i}"] for i in range(config.n_mels)])
        self.mfcc = np.array([index[f"mfcc_{i}"] for i in range(1, config.n_mfcc)])  # c0 is loudness
        self.delta = np.array([index[f"mfcc_delta_{i}"] for i in range(config.n_mfcc)])
        self.energy, self.voicing, self.f0 = index["log_energy"], index["voicing"], index["f0_semitones"]
        m, d, b = len(self.mfcc), len(self.delta), len(self.mel)
        # layout of a block's sums: loud count, mfcc, mfcc^2, mel shape, delta, delta^2,
        # voiced count, f0, f0^2
        self.n_sums = 1 + 2 * m + b + 2 * d + 3
        self.n_stats = 2 * m + b + d + 2


def _block_sums(X, cols, *, loud_db, min_voicing):
    """The sums of one block of frames.

    Parameters
    ----------
    X : np.ndarray [shape=(frames, n_features)]

    Returns
    -------
    np.ndarray [shape=(cols.n_sums,), dtype=float64]
    """
    X = X.astype(np.float64, copy=False)
    e = X[:, cols.energy]
    loud = X[e >= e.max() - loud_db]
    mf, de = loud[:, cols.mfcc], loud[:, cols.delta]
    mel = loud[:, cols.mel]
    shape = mel - mel.mean(axis=1, keepdims=True)
    voiced = X[:, cols.f0][X[:, cols.voicing] >= min_voicing]
    return np.concatenate([[len(loud)], mf.sum(0), (mf * mf).sum(0), shape.sum(0), de.sum(0), (de * de).sum(0),
                           [len(voiced), voiced.sum(), (voiced * voiced).sum()]])


def window_stats(sums: np.ndarray, cols) -> np.ndarray:
    """Statistics of windows from the summed sums of their blocks.

    Parameters
    ----------
    sums : np.ndarray [shape=(n_windows, cols.n_sums)]

    Returns
    -------
    stats : np.ndarray [shape=(n_windows, cols.n_stats)]
        MFCC 1..n means and standard deviations, mean log-mel shape, MFCC-delta standard
        deviations, F0 mean and standard deviation (NaN where no frame was voiced).
    """
    m, d, b = len(cols.mfcc), len(cols.delta), len(cols.mel)
    n = np.maximum(sums[:, :1], 1.0)
    i = 1
    s_mf, s_mf2 = sums[:, i:i + m], sums[:, i + m:i + 2 * m]
    i += 2 * m
    s_mel = sums[:, i:i + b]
    i += b
    s_de, s_de2 = sums[:, i:i + d], sums[:, i + d:i + 2 * d]
    i += 2 * d
    nv, s_f0, s_f02 = sums[:, i:i + 1], sums[:, i + 1:i + 2], sums[:, i + 2:i + 3]
    mf = s_mf / n
    mf_sd = np.sqrt(np.maximum(s_mf2 / n - mf ** 2, 0.0))
    de_sd = np.sqrt(np.maximum(s_de2 / n - (s_de / n) ** 2, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        f0 = np.where(nv > 0, s_f0 / nv, np.nan)
        f0_sd = np.where(nv > 1, np.sqrt(np.maximum(s_f02 / nv - f0 ** 2, 0.0)), np.nan)
    return np.concatenate([mf, mf_sd, s_mel / n, de_sd, f0, f0_sd], axis=1)


class SpeakerTracker:
    """Collects block statistics of speech regions as their feature frames arrive.

    Feed it every speech region's frames, in time order, in pieces of any size
    (:meth:`add`), and, when the analysis computed them, each region's speech-encoder
    states (:meth:`add_states`); then call :meth:`finish`. It keeps one vector of sums per
    block (``block_seconds`` of speech), never the frames.

    Parameters
    ----------
    config : ser_engine.features.FeatureConfig
        The settings the frames were computed with.
    settings : SpeakerConfig
    encoder : str or None
        The name of the speech encoder whose states :meth:`add_states` will be given
        (``EncoderSpec.name``); a speaker space with an encoder part of that name then uses
        them.
    """

    def __init__(self, *, config, settings: SpeakerConfig = SpeakerConfig(), encoder: str | None = None) -> None:
        self.config = config
        self.settings = settings
        self.encoder = encoder
        self.cols = _Columns(config)
        self._state_sums: dict[int, np.ndarray] = {}  # block index -> summed states
        self.block = max(int(round(settings.block_seconds * config.frame_rate)), 1)
        self._sums = []      # one array per finished block
        self._spans = []     # (lo, hi) frames of each block
        self._region = []    # region start frame of each block
        self._blocks_of: dict[int, list[int]] = {}  # region start frame -> its blocks
        self._open = None    # [region_lo, block_lo, list of frame pieces]
        self._next = 0       # frames before this are done

    def add(self, lo: int, hi: int, X: np.ndarray) -> None:
        """Frames ``[lo, hi)`` of one speech region.

        Parameters
        ----------
        lo, hi : int
            Frame range; pieces of one region must follow one another, and regions must come
            in time order.
        X : np.ndarray [shape=(hi - lo, n_features)]
            The raw (not normalised) feature frames, as ``stream.regions_features`` gives.
        """
        lo, hi = int(lo), int(hi)
        X = np.asarray(X)
        if X.ndim != 2 or X.shape != (hi - lo, self.cols.n_features):
            raise SpeakerError(f"frames {lo}-{hi}: expected features of shape ({hi - lo}, {self.cols.n_features}), "
                               f"got {X.shape}")
        if lo < self._next or hi <= lo:
            raise SpeakerError(f"frames {lo}-{hi}: regions must be non-empty and come in time order "
                               f"(the previous ended at frame {self._next})")
        if not np.isfinite(X).all():
            raise SpeakerError(f"frames {lo}-{hi}: the features hold NaN or infinite values")
        if self._open is not None and lo != self._next:
            self._close()  # a new region
        if self._open is None:
            self._open = [lo, lo, []]
        self._open[2].append(X)
        self._next = hi
        self._emit(final=False)

    def add_states(self, lo: int, states: np.ndarray) -> None:
        """The speech-encoder states of the region that starts at frame ``lo``, once all of
        its frames were added.

        Parameters
        ----------
        lo : int
            The region's first frame.
        states : np.ndarray [shape=(ceil(frames / 2), dim)]
            One state per two frames (20 ms), from the region's start, as the analysis
            computes them.
        """
        if self.encoder is None:
            raise SpeakerError("encoder states were given to a speaker tracker made without an encoder")
        if self._open is not None:
            self._close()
        lo = int(lo)
        blocks = self._blocks_of.get(lo, [])
        if not blocks:
            raise SpeakerError(f"encoder states for frame {lo}, where no speech region starts")
        states = np.asarray(states)
        n = (self._spans[blocks[-1]][1] - lo + 1) // 2
        if states.ndim != 2 or len(states) != n or not np.isfinite(states).all():
            raise SpeakerError(f"frames from {lo}: expected {n} finite encoder states, got an array of shape "
                               f"{states.shape}")
        for k in blocks:
            a, b = self._state_range(k)
            self._state_sums[k] = states[a:b].astype(np.float64).sum(axis=0)

    def _state_range(self, k):
        """The states (one per two frames from the region's start) block ``k`` covers."""
        (a, b), lo = self._spans[k], self._region[k]
        return (a - lo) // 2, (b - lo + 1) // 2

    def end_region(self) -> None:
        """Close the current region (also done by :meth:`add` when a new one starts after a gap)."""
        if self._open is not None:
            self._close()

    def _close(self):
        self._emit(final=True)

    def _emit(self, *, final):
        """Cut the open region's frames into blocks. A block is cut only once at least a
        whole block follows it (the last may yet take a short tail), or at the region's end:
        there the rest is one block when at most 1.5 blocks long, else a block and the rest."""
        region_lo, start, pieces = self._open
        X = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
        b, cut = self.block, 0
        while len(X) - cut >= 2 * b:
            self._add_block(region_lo, start + cut, X[cut:cut + b])
            cut += b
        if final:
            rest = len(X) - cut
            if rest >= 1.5 * b:
                self._add_block(region_lo, start + cut, X[cut:cut + b])
                cut += b
            if len(X) > cut:
                self._add_block(region_lo, start + cut, X[cut:])
            self._open = None
        else:
            self._open = [region_lo, start + cut, [X[cut:].copy()]]  # not a view that keeps the chunk

    def _add_block(self, region_lo, lo, X):
        self._sums.append(_block_sums(X, self.cols, loud_db=self.settings.loud_db,
                                      min_voicing=self.settings.min_voicing))
        self._spans.append((lo, lo + len(X)))
        self._region.append(region_lo)
        self._blocks_of.setdefault(region_lo, []).append(len(self._spans) - 1)

    def windows(self) -> tuple[np.ndarray, np.ndarray]:
        """Window sums and the blocks each covers, after :meth:`end_region`.

        Returns
        -------
        sums : np.ndarray [shape=(n_windows, n_sums)]
        blocks : np.ndarray [shape=(n_windows, 2), dtype=int64]
            First and last block of each window (equal for a region of one block).
        """
        if self._open is not None:
            self._close()
        n = len(self._sums)
        if n == 0:
            return np.zeros((0, self.cols.n_sums)), np.zeros((0, 2), np.int64)
        S = np.stack(self._sums)
        region = np.array(self._region)
        pairs = np.flatnonzero(region[1:] == region[:-1])
        # a region of a single block is a window by itself
        first = np.r_[True, region[1:] != region[:-1]]
        last = np.r_[region[1:] != region[:-1], True]
        alone = np.flatnonzero(first & last)
        blocks = np.concatenate([np.stack([pairs, pairs + 1], 1), np.stack([alone, alone], 1)])
        blocks = blocks[np.argsort(blocks[:, 0], kind="stable")]
        sums = S[blocks[:, 0]] + np.where((blocks[:, 1] != blocks[:, 0])[:, None], S[blocks[:, 1]], 0.0)
        return sums, blocks

    def window_states(self) -> np.ndarray | None:
        """Mean encoder state of each window of :meth:`windows` [shape=(n_windows, dim)], or
        None when no states were added.

        Raises
        ------
        SpeakerError
            States were added for some speech regions only.
        """
        _, blocks = self.windows()
        if not self._state_sums:
            return None
        if len(self._state_sums) != len(self._spans):
            raise SpeakerError(f"encoder states were given for {len(self._state_sums)} of {len(self._spans)} "
                               f"blocks of speech: give them for every speech region or none")
        S = np.stack([self._state_sums[k] for k in range(len(self._spans))])
        n = np.array([b - a for a, b in map(self._state_range, range(len(self._spans)))], np.float64)
        two = (blocks[:, 1] != blocks[:, 0])[:, None]
        total = S[blocks[:, 0]] + np.where(two, S[blocks[:, 1]], 0.0)
        count = n[blocks[:, 0]] + np.where(two[:, 0], n[blocks[:, 1]], 0.0)
        return total / np.maximum(count, 1.0)[:, None]

    def finish(self, *, n_speakers: int | None = None, space: SpeakerSpace | None = None) -> SpeakerTurns:
        """The speaker turns of everything added.

        Parameters
        ----------
        n_speakers : int or None
            The number of speakers when known (honoured: every one of them gets at least one
            block, unless the speech holds fewer windows than that, when each window is a
            speaker); None to estimate it (at most ``settings.max_speakers``).
        space : SpeakerSpace or None
            None for the shipped one.

        Returns
        -------
        SpeakerTurns
        """
        n_speakers = _check_count(n_speakers)
        sums, blocks = self.windows()
        spans = self._spans
        rate = self.config.frame_rate
        if not len(spans):
            return SpeakerTurns([], 0, rate)
        space = load_space() if space is None else space
        if tuple(space.feature_names) != tuple(self.config.feature_names()):
            raise SpeakerError("the speaker space was fitted on other features than these settings compute")
        V = embed(window_stats(sums, self.cols), space)
        settings = self.settings
        states = self.window_states()
        if states is not None and space.reads(self.encoder):
            V = np.concatenate([V, embed_states(states, space)], axis=1)
            settings = dataclasses.replace(settings, threshold=settings.threshold_with_states)
        labels = _cluster(V, n_speakers, settings)
        block_labels = _block_labels(V, labels, blocks, self._region, self.settings.switch_cost)
        return _turns(spans, self._region, block_labels, rate)


def _check_count(n_speakers):
    if n_speakers is None:
        return None
    if isinstance(n_speakers, bool) or not isinstance(n_speakers, (int, np.integer)) or n_speakers < 1:
        raise SpeakerError(f"the number of speakers must be a whole number of at least 1, not {n_speakers!r}")
    return int(n_speakers)


def embed(stats: np.ndarray, space: SpeakerSpace) -> np.ndarray:
    """Windows in the speaker space, centred on the recording's mean and whitened.

    Parameters
    ----------
    stats : np.ndarray [shape=(n_windows, n_stats)]
    space : SpeakerSpace

    Returns
    -------
    np.ndarray [shape=(n_windows, n_dims)]
        Within one speaker, each dimension varies by about 1 (on the actors it was fitted on).
    """
    stats = np.array(stats, np.float64)
    if stats.ndim != 2 or stats.shape[1] != len(space.scale):
        raise SpeakerError(f"window statistics of shape {stats.shape} do not fit the speaker space "
                           f"({len(space.scale)} per window)")
    # a window without voiced frames takes the recording's mean F0 (no evidence either way)
    return (_centred(stats) / space.scale) @ space.projection


def embed_states(states: np.ndarray, space: SpeakerSpace) -> np.ndarray:
    """Windows' mean encoder states in the encoder part of the speaker space, centred on the
    recording's mean: the columns :func:`embed`'s output is extended with.

    Parameters
    ----------
    states : np.ndarray [shape=(n_windows, dim)]
    space : SpeakerSpace
        With an encoder part.

    Returns
    -------
    np.ndarray [shape=(n_windows, n_encoder_dims)]
    """
    states = np.asarray(states, np.float64)
    if space.encoder_scale is None or states.ndim != 2 or states.shape[1] != len(space.encoder_scale):
        raise SpeakerError(f"encoder states of shape {states.shape} do not fit the speaker space's encoder part")
    return (_centred(states) / space.encoder_scale) @ space.encoder_projection


def _unit(Z):
    return Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)


def separation(Z: np.ndarray, labels: np.ndarray, *, spread: float | None = None) -> float:
    """The smallest separation between two clusters: the distance of their centroids per
    dimension, in units of a within-cluster spread.

    Parameters
    ----------
    Z : np.ndarray [shape=(n_windows, n_dims)]
        Windows in the speaker space (:func:`embed`).
    labels : np.ndarray [shape=(n_windows,)]
        Clusters 0..k-1, k >= 2.
    spread : float or None
        The within-cluster variance per dimension to measure in; None for that of these
        clusters (:func:`within_spread`).

    Returns
    -------
    float
        0 when the clusters lie no further apart than windows of one voice would by chance;
        two voices lie further apart than the ways one voice varies (docs/speakers.md).
    """
    k = labels.max() + 1
    dims = Z.shape[1]
    counts = np.bincount(labels, minlength=k)
    centroids = np.stack([Z[labels == j].mean(axis=0) for j in range(k)])
    spread = max(within_spread(Z, labels) if spread is None else spread, 1e-12)
    # the centroids of a few windows lie apart by chance: less the distance expected between
    # the means of n_i and n_j windows of one voice, an unbiased squared distance
    d2 = ((centroids[:, None] - centroids[None]) ** 2).sum(-1) / dims
    d2 = d2 - spread * (1.0 / counts[:, None] + 1.0 / counts[None, :])
    return float(np.sqrt(max(d2[np.triu_indices(k, 1)].min(), 0.0) / spread))


def within_spread(Z: np.ndarray, labels: np.ndarray) -> float:
    """Pooled within-cluster variance per dimension of windows ``Z`` in clusters ``labels``."""
    k = labels.max() + 1
    centroids = np.stack([Z[labels == j].mean(axis=0) for j in range(k)])
    return float(((Z - centroids[labels]) ** 2).sum() / Z.size)


def _cluster(Z, n_speakers, settings):
    """Cluster labels of the windows ``Z`` (in the speaker space), numbered arbitrarily.

    Average-linkage clustering of the windows' directions (cosine distance); without a
    given count, clusters are split top-down (two, three, ...) while every cluster holds
    ``min_share`` of the windows and all lie ``threshold`` apart (:func:`separation`, in the
    spread within the two-cluster split); one when two already fail.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    n = len(Z)
    if n == 1 or n_speakers == 1:
        return np.zeros(n, np.int64)
    if n_speakers is not None and n_speakers >= n:
        return np.arange(n)
    pick = np.unique(np.linspace(0, n - 1, min(n, settings.max_windows)).round().astype(np.int64))
    U = _unit(Z)
    tree = linkage(U[pick], method="average", metric="cosine")

    def cut(k):
        return fcluster(tree, k, criterion="maxclust") - 1

    if n_speakers is not None:
        sub = cut(n_speakers)
    else:
        # top-down: one more speaker while the new split holds min_share and lies threshold
        # apart, measured in the spread within the two-speaker split (finer splits are tighter
        # by construction, so their own spread would make any split look separate)
        sub = np.zeros(len(pick), np.int64)
        spread = None
        for k in range(2, min(settings.max_speakers, len(pick)) + 1):
            cand = cut(k)
            if cand.max() + 1 < k:
                break
            if spread is None:
                spread = within_spread(Z[pick], cand)
            if np.bincount(cand).min() < settings.min_share * len(cand) or \
                    separation(Z[pick], cand, spread=spread) < settings.threshold:
                break
            sub = cand
    _, sub = np.unique(sub, return_inverse=True)
    if len(pick) == n:
        return sub
    k = sub.max() + 1
    centroids = _unit(np.stack([U[pick][sub == j].mean(axis=0) for j in range(k)]))
    labels = np.argmax(U @ centroids.T, axis=1)
    labels[pick] = sub
    return labels


def _block_labels(V, labels, blocks, region, switch_cost):
    """Each block's speaker: the cluster whose centroid is closest (cosine) to the windows
    covering it (one or two), smoothed within each region: a change of speaker inside a
    region costs ``switch_cost`` of similarity (the best path by dynamic programming), so a
    single odd block does not make a turn of its own."""
    n_blocks = len(region)
    k = labels.max() + 1
    U = _unit(V)
    centroids = _unit(np.stack([U[labels == j].mean(axis=0) for j in range(k)]))
    sim = U @ centroids.T
    acc = np.zeros((n_blocks, k))
    cnt = np.zeros(n_blocks)
    for col in (0, 1):
        np.add.at(acc, blocks[:, col], sim)
        np.add.at(cnt, blocks[:, col], 1)
    score = acc / np.maximum(cnt, 1)[:, None]
    out = np.empty(n_blocks, np.int64)
    region = np.asarray(region)
    edges = np.flatnonzero(np.r_[True, region[1:] != region[:-1], True])
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        out[a:b] = _best_path(score[a:b], switch_cost)
    acc, cnt = score, np.ones(n_blocks)
    # a speaker the blocks never chose (a given count larger than the voices) keeps the block
    # that resembles it most, so a given number of speakers is always honoured
    for j in range(k):
        if not (out == j).any():
            free = np.flatnonzero(np.bincount(out, minlength=k)[out] > 1)
            if len(free):
                b = free[np.argmax(acc[free, j] / np.maximum(cnt[free], 1))]
                out[b] = j
    return out


def _best_path(score, switch_cost):
    """The labels maximising the summed ``score`` [shape=(n, k)] less ``switch_cost`` per change."""
    n, k = score.shape
    total = score[0].copy()
    back = np.zeros((n, k), np.int64)
    for t in range(1, n):
        stay = total
        move = total.max() - switch_cost
        back[t] = np.where(stay >= move, np.arange(k), np.argmax(total))
        total = np.maximum(stay, move) + score[t]
    path = np.empty(n, np.int64)
    path[-1] = int(np.argmax(total))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def _turns(spans, region, block_labels, rate):
    """Merge a region's consecutive blocks of one speaker; number speakers by first appearance."""
    order, turns = {}, []
    for (lo, hi), r, k in zip(spans, region, block_labels, strict=True):
        k = order.setdefault(int(k), len(order))
        if turns and turns[-1][2] == k and turns[-1][1] == lo and turns[-1][3] == r:
            turns[-1][1] = hi
        else:
            turns.append([lo, hi, k, r])
    return SpeakerTurns([(lo, hi, k) for lo, hi, k, _ in turns], len(order), rate)


def speaker_turns(regions, features, *, config, n_speakers: int | None = None,
                  settings: SpeakerConfig = SpeakerConfig(), space: SpeakerSpace | None = None,
                  states=None, encoder: str | None = None) -> SpeakerTurns:
    """The speaker turns of a recording from its speech regions and their feature frames.

    Parameters
    ----------
    regions : list of (lo, hi)
        Speech regions in frames (``config.frame_rate`` per second), in time order, not
        overlapping (``segments.speech_regions``).
    features : list of np.ndarray [shape=(hi - lo, n_features)]
        Each region's raw feature frames (``stream.regions_features``).
    config : ser_engine.features.FeatureConfig
    n_speakers : int or None
        Given, or None to estimate.
    settings : SpeakerConfig
    space : SpeakerSpace or None
    states : list of np.ndarray or None
        Each region's speech-encoder states (one per two frames), when the analysis has them.
    encoder : str or None
        The name of the encoder that computed ``states``; without it the states are not used.

    Returns
    -------
    SpeakerTurns
        Turns that partition ``regions``.

    Raises
    ------
    SpeakerError
        Regions and frames that do not match, regions out of order, a count that is not a
        positive whole number, or a missing speaker space.
    """
    regions = list(regions)
    features = list(features)
    if len(regions) != len(features):
        raise SpeakerError(f"{len(regions)} speech regions but {len(features)} arrays of frames")
    if states is not None and len(states) != len(regions):
        raise SpeakerError(f"{len(regions)} speech regions but {len(states)} arrays of encoder states")
    if encoder is None:
        states = None  # states of an unnamed encoder: no space can say it was fitted on them
    tracker = SpeakerTracker(config=config, settings=settings, encoder=encoder)
    for (lo, hi), X in zip(regions, features, strict=True):
        tracker.add(lo, hi, X)
        tracker.end_region()
    for (lo, _), st in zip(regions, states or [], strict=bool(states)):
        tracker.add_states(lo, st)
    return tracker.finish(n_speakers=n_speakers, space=space)
