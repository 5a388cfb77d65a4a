"""Training one CNN-LSTM on window crops, with early stopping on validation actors."""

import dataclasses
import logging
import math
import time

import numpy as np

from ser_engine import EMOTIONS
from ser_engine.errors import TrainingCancelled
from ser_engine.segments import SegmentConfig, group_stats

from .cache import channel_key, noise_key, pitch_key
from .model import AUX_OUTPUTS, build_model, output_model
from .scoring import (CONDITIONS, VALIDATION_CONDITIONS, accuracy, baseline_stats, by_actor, condition_set,
                      condition_subsets, nll, recordings_of)

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class EpochLog:
    epoch: int
    loss: float
    accuracy: float
    val_loss: float = math.nan
    val_accuracy: float = math.nan
    seconds: float = 0.0
    member: int = 0  # which model of an ensemble


@dataclasses.dataclass
class TrainedModel:
    model: object  # keras.Model (an ensemble is one model that averages its members)
    global_stats: object  # FeatureStats
    history: list  # of EpochLog, all members in order
    best_epoch: int  # median over members
    aux_models: dict = dataclasses.field(default_factory=dict)  # name -> model of an auxiliary head
    network: object = None  # a member's whole trained network (auxiliary heads included); None for an ensemble


def speaker_stats(items, recs, global_stats, cfg):
    """Speaker baseline of each actor, from all of that actor's recordings (labels unused),
    as the app would use it (None when the app would refuse it)."""
    return {a: baseline_stats([recs[it.path] for it in xs], global_stats, cfg) for a, xs in by_actor(items).items()}


def aux_targets(items):
    """Targets of the auxiliary heads, in :data:`AUX_OUTPUTS` order (strong intensity, male
    speaker), from the RAVDESS file names.

    Returns
    -------
    targets : np.ndarray [shape=(len(items), len(AUX_OUTPUTS)), dtype=float32] of 0/1
    """
    return np.array([[it.intensity == "strong", it.sex == "male"] for it in items], np.float32)


def augmented_keys(cfg):
    """The ``features`` key parts of a recording's augmented copies under ``cfg``."""
    return (list(cfg.speeds) + [noise_key(snr) for snr in cfg.noise_snrs]
            + [pitch_key(steps) for steps in cfg.pitch_steps] + [channel_key(name) for name in cfg.channels])


def version_recordings(items, recs, key):
    """``{path: recording}`` of the copies ``key`` of ``items`` (None: the recordings themselves)."""
    if key is None:
        return {it.path: recs[it.path] for it in items}
    return {it.path: recs[(it.path, key)] for it in items if (it.path, key) in recs}


def training_baselines(items, recs, global_stats, cfg, rng):
    """For each training actor and version (the recording, or an augmented copy ``key``), the
    speaker baselines a window may be normalised with: ``{(actor, key): {condition: [stats]}}``.

    ``all`` is the speaker's whole material; the skewed conditions (:data:`~training.scoring.CONDITIONS`)
    are what a real session gives (a sad-only session, a neutral enrolment, ...), so the model
    learns to read a window against a baseline that may itself be emotional. A speeded-up or
    noisy copy is another speaker or room: its baselines come from the copies.
    """
    out = {}
    for key in [None, *augmented_keys(cfg)]:
        versions = version_recordings(items, recs, key)
        for actor, actor_items in by_actor([it for it in items if it.path in versions]).items():
            conds = {}
            for c in (CONDITIONS if cfg.skewed_baselines else ("all",)):
                for base, _ in condition_subsets(actor_items, c, rng=rng):
                    stats = baseline_stats([versions[it.path] for it in base], global_stats, cfg)
                    if stats is not None:
                        conds.setdefault(c, []).append(stats)
            out[(actor, key)] = conds
    return out


class WindowSampler:
    """Draws one augmented training window per file per epoch.

    Each window comes from the recording or one of its augmented copies, is cut from one of
    its speech regions (as the app's windows are; a region is drawn in proportion to its
    length, a short one placed anywhere in the window), and is normalised with the global
    statistics or, with probability ``speaker_mix``, with a speaker baseline of that speaker
    and copy: with probability ``skewed_baselines`` one made of a skewed subset of their clips
    (:func:`training_baselines`), else one of all of them. So one model serves every mode.
    """

    def __init__(self, items, recs, global_stats, baselines, cfg, rng, targets=None):
        self.cfg, self.rng = cfg, rng
        self.global_stats = global_stats
        self.labels = np.array([it.label for it in items])
        self.targets = np.eye(len(EMOTIONS), dtype=np.float32)[self.labels]
        if cfg.distill:  # each file's target: part its label, part the teacher's probabilities
            if targets is None:
                raise ValueError("distillation needs the teacher's targets of the training recordings")
            soft = np.array([targets[it.path] for it in items], np.float32)
            self.targets = (1 - cfg.distill) * self.targets + cfg.distill * soft
        self.aux = aux_targets(items)
        self.seqs = []  # per file: list of (region frames, region weights, baselines of its speaker and copy)
        for it in items:
            seqs = []
            for key in [None, *augmented_keys(cfg)]:
                rec = recs.get(it.path if key is None else (it.path, key))
                base = baselines.get((it.actor, key))
                if rec is None or base is None or not rec.regions:
                    continue
                sizes = np.array([len(X) for X in rec.feats], np.float64)
                seqs.append((rec.feats, sizes / sizes.sum(), base))
            self.seqs.append(seqs)

    def _stats(self, base):
        cfg, rng = self.cfg, self.rng
        if rng.random() >= cfg.speaker_mix or not base:
            return self.global_stats
        skewed = [c for c in base if c != "all"]
        if skewed and (rng.random() < cfg.skewed_baselines or "all" not in base):
            pool = base[skewed[rng.integers(len(skewed))]]
        else:
            pool = base["all"]
        return pool[rng.integers(len(pool))]

    def epoch(self):
        cfg, rng = self.cfg, self.rng
        L = cfg.window.length
        x = np.zeros((len(self.seqs), L, cfg.n_inputs), np.float32)
        for i, versions in enumerate(self.seqs):
            if not versions:
                continue
            regions, weights, base = versions[rng.integers(len(versions))]
            z_raw = regions[rng.choice(len(regions), p=weights)] if len(regions) > 1 else regions[0]
            stats = self._stats(base)
            n = len(z_raw)
            if n >= L:
                s = rng.integers(0, n - L + 1)
                x[i] = (z_raw[s:s + L] - stats.mean) / stats.std
            else:
                s = rng.integers(0, L - n + 1)
                x[i, s:s + n] = (z_raw - stats.mean) / stats.std
            self._spec_augment(x[i])
        y = self.targets.copy()
        aux = self.aux
        if cfg.mixup:
            lam = rng.beta(cfg.mixup, cfg.mixup, size=(len(x), 1)).astype(np.float32)
            perm = rng.permutation(len(x))
            x = lam[:, :, None] * x + (1 - lam[:, :, None]) * x[perm]
            y = lam * y + (1 - lam) * y[perm]
            aux = lam * aux + (1 - lam) * aux[perm]
        if cfg.aux_weight:
            return x, [y] + [aux[:, k:k + 1] for k in range(len(AUX_OUTPUTS))]
        return x, y

    def _spec_augment(self, w):
        cfg, rng = self.cfg, self.rng
        step = cfg.front_end.step
        for _ in range(cfg.time_masks):  # time_mask_frames in 10 ms frames, whatever the model's grid
            width = rng.integers(0, cfg.time_mask_frames // step + 1)
            start = rng.integers(0, len(w) - width + 1)
            w[start:start + width] = 0.0
        if cfg.front_end.kind == "encoder":
            return  # no log-mel bands to mask
        for _ in range(cfg.freq_masks):  # on the log-mel bands only (first, in classic and combined frames)
            width = rng.integers(0, cfg.freq_mask_bins + 1)
            start = rng.integers(0, cfg.feature.n_mels - width + 1)
            w[:, start:start + width] = 0.0


def validation_set(val_items, recs, global_stats, cfg):
    """The prepared inputs early stopping scores every epoch (:data:`~training.scoring.VALIDATION_CONDITIONS`)."""
    return [condition_set(val_items, recs, c, global_stats, cfg) for c in VALIDATION_CONDITIONS]


def validation_score(model, val_items, sets, cfg, seg=SegmentConfig()):
    """File-level (NLL, accuracy) on the validation actors, each averaged over the
    validation conditions (no baseline, a balanced one, both skews): what early stopping
    watches and what levers are chosen by."""
    labels = np.array([it.label for it in val_items])
    nlls, accs = [], []
    for cs in sets:
        sc = cs.prepared.score(model, smooth=seg.smooth, rate=cfg.front_end.rate(cfg.feature))
        nlls.append(nll(sc, labels[cs.index]))
        accs.append(accuracy(sc, labels[cs.index]))
    return float(np.mean(nlls)), float(np.mean(accs))


class _StopCallback:
    """Keras callback factory: stops fit() between batches when cancellation is asked."""

    @staticmethod
    def make(should_stop):
        import keras

        class Stop(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if should_stop():
                    self.model.stop_training = True

        return Stop()


def train_model(train_items, val_items, features, cfg, *, seed, epochs=None,
                on_epoch=None, should_stop=None, recs=None, runner=None, states=None):
    """Train ``cfg.ensemble`` models with different seeds and average them into one.

    Averaging the probabilities of independently trained members removes much of the
    seed-to-seed spread of a small model on 60 files per speaker (measured in
    BENCHMARKS.md). The result is a single Keras model of stock layers, so the bundle
    format, the Predictor and safe_mode loading are unchanged. Parameters as
    :func:`train_member`; ``runner`` (:mod:`training.distributed`) trains the members, one
    after the other in this process by default, or at once on a Dask cluster; ``states``: the
    recordings' encoder states, for the teacher of ``cfg.distill``.
    """
    from .distributed import fit_members, member_tasks

    recs = recs if recs is not None else recordings_of(features, cfg)
    tasks = member_tasks(train_items, val_items, cfg, seed=seed, epochs=epochs, states=states)
    members = list(fit_members(tasks, recs, on_epoch=(lambda task, log: on_epoch(log)) if on_epoch else None,
                               should_stop=should_stop, runner=runner))
    return ensemble_of(members)


def ensemble_of(members):
    """One :class:`TrainedModel` averaging the members' outputs (a single member is itself)."""
    import keras

    if len(members) == 1:
        return members[0]
    inp = keras.Input(shape=members[0].model.input_shape[1:], name="features")
    for k, m in enumerate(members):
        m.model.name = f"member{k}"
    out = keras.layers.Average(name="ensemble_mean")([m.model(inp) for m in members])
    model = keras.Model(inp, out, name="ser_cnn_lstm_ensemble")
    aux = {}
    for name in members[0].aux_models:
        for k, m in enumerate(members):
            m.aux_models[name].name = f"member{k}_{name}"
        aux[name] = keras.Model(inp, keras.layers.Average(name=f"ensemble_{name}")(
            [m.aux_models[name](inp) for m in members]))
    return TrainedModel(model, members[0].global_stats, [h for m in members for h in m.history],
                        int(np.median([m.best_epoch for m in members])), aux)


def train_member(train_items, val_items, features, cfg, *, seed, epochs=None,
                 on_epoch=None, should_stop=None, recs=None, targets=None):
    """Train one model.

    Parameters
    ----------
    train_items, val_items : list of Item
        ``val_items`` (other actors) drive early stopping; empty means train ``epochs``
        epochs and keep the last weights.
    features : dict Path -> raw features
    cfg : TrainConfig
    seed : int
    recs : dict or None
        The app's recordings of ``features`` (:func:`~training.scoring.recordings_of`), when
        already made.
    on_epoch : callable(EpochLog) or None
    should_stop : callable() -> bool or None
        Polled after every batch; True raises :class:`TrainingCancelled`.
    targets : dict path -> np.ndarray or None
        A teacher's probabilities of ``train_items`` (``cfg.distill`` of each target).

    Returns
    -------
    TrainedModel
    """
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    fcfg = cfg.feature
    recs = recs if recs is not None else recordings_of(features, cfg)
    global_stats = group_stats([recs[it.path] for it in train_items])
    sampler = WindowSampler(train_items, recs, global_stats,
                            training_baselines(train_items, recs, global_stats, cfg, rng), cfg, rng, targets)
    val_sets = validation_set(val_items, recs, global_stats, cfg) if val_items else None
    trained = build_model((cfg.window.length, cfg.n_inputs), len(EMOTIONS), conv_filters=cfg.conv_filters,
                          lstm_units=cfg.lstm_units, dropout=cfg.dropout, learning_rate=cfg.learning_rate,
                          input_noise=cfg.input_noise, weight_decay=cfg.weight_decay,
                          label_smoothing=cfg.label_smoothing, lstm_layers=cfg.lstm_layers, pooling=cfg.pooling,
                          aux_weight=cfg.aux_weight)
    # A multi-task model is trained whole; the emotion head alone (same weights) is what is
    # validated, evaluated and shipped, so the bundle format does not change.
    model = output_model(trained, "emotion") if cfg.aux_weight else trained
    aux_models = {name: output_model(trained, name) for name in AUX_OUTPUTS} if cfg.aux_weight else {}
    callbacks = [_StopCallback.make(should_stop)] if should_stop else []
    history, best, best_weights, best_epoch, waited = [], math.inf, None, 0, 0
    for epoch in range(1, (epochs or cfg.epochs) + 1):
        t0 = time.perf_counter()
        x, y = sampler.epoch()
        h = trained.fit(x, y, batch_size=cfg.batch_size, epochs=1, verbose=0, shuffle=True, callbacks=callbacks)
        if should_stop and should_stop():
            raise TrainingCancelled("training cancelled; the active model is unchanged")
        accuracy = h.history.get("accuracy", h.history.get("emotion_accuracy"))
        log = EpochLog(epoch, float(h.history["loss"][-1]), float(accuracy[-1]))
        if val_items:
            log.val_loss, log.val_accuracy = validation_score(model, val_items, val_sets, cfg)
            if log.val_loss < best - 1e-4:
                best, best_epoch, waited = log.val_loss, epoch, 0
                best_weights = trained.get_weights()
            else:
                waited += 1
        log.seconds = time.perf_counter() - t0
        history.append(log)
        if on_epoch:
            on_epoch(log)
        if val_items and waited >= cfg.patience:
            break
    if best_weights is not None:
        trained.set_weights(best_weights)
    else:
        best_epoch = len(history)
    return TrainedModel(model, global_stats, history, best_epoch, aux_models, trained)
