"""Training one CNN-LSTM on window crops, with early stopping on validation actors."""

import dataclasses
import logging
import math
import time

import numpy as np

from ser_engine import EMOTIONS
from ser_engine.errors import TrainingCancelled
from ser_engine.features import speech_mask, speech_span
from ser_engine.inference import aggregate, prepare_windows, run_model
from ser_engine.normalise import apply_stats, compute_stats

from .cache import noise_key, pitch_key
from .model import AUX_OUTPUTS, build_model, output_model

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


def speaker_stats(items, features, *, config):
    """Speaker baseline of each actor, from all of that actor's files (labels unused)."""
    by_actor = {}
    for it in items:
        by_actor.setdefault(it.actor, []).append(features[it.path])
    return {a: compute_stats(xs, config=config) for a, xs in by_actor.items()}


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
            + [pitch_key(steps) for steps in cfg.pitch_steps])


def perturbed_speaker_stats(items, features, keys, *, config):
    """Speaker baselines of each actor's augmented recordings, keyed ``(actor, key)`` for
    each of ``keys`` (a speed, a :func:`~training.cache.noise_key` or a :func:`~training.cache.pitch_key`).

    A recording played 10% faster is, pitch and tempo, another speaker, and a noisy room
    is another recording condition; the baseline must be that speaker's in that condition,
    as it is in use, or the speaker normalisation would undo the augmentation.
    """
    out = {}
    for key in keys:
        by_actor = {}
        for it in items:
            if (it.path, key) in features:
                by_actor.setdefault(it.actor, []).append(features[(it.path, key)])
        out.update({(a, key): compute_stats(xs, config=config) for a, xs in by_actor.items()})
    return out


class WindowSampler:
    """Draws one augmented training window per file per epoch.

    Each window comes from the recording or one of its speed-perturbed versions (when
    ``features`` holds them under ``(path, speed)``), and is normalised with the global
    statistics or, with probability ``speaker_mix``, with its (perturbed) speaker's
    baseline, so one model serves both modes.
    """

    def __init__(self, items, features, global_stats, spk_stats, cfg, rng):
        self.cfg, self.rng = cfg, rng
        self.labels = np.array([it.label for it in items])
        self.aux = aux_targets(items)
        self.seqs = []  # per file: list of (globally normalised, speaker normalised) versions
        for it in items:
            versions = [(features[it.path], spk_stats[it.actor])]
            versions += [(features[(it.path, s)], spk_stats[(it.actor, s)]) for s in augmented_keys(cfg)
                         if (it.path, s) in features and (it.actor, s) in spk_stats]
            seqs = []
            for X, stats in versions:
                lo, hi = speech_span(speech_mask(X, config=cfg.feature))
                seqs.append((apply_stats(X[lo:hi], global_stats), apply_stats(X[lo:hi], stats)))
            self.seqs.append(seqs)

    def epoch(self):
        cfg, rng = self.cfg, self.rng
        L = cfg.window.length
        n_feat = self.seqs[0][0][0].shape[1]
        x = np.zeros((len(self.seqs), L, n_feat), np.float32)
        for i, versions in enumerate(self.seqs):
            zg, zs = versions[rng.integers(len(versions))]
            z = zs if rng.random() < cfg.speaker_mix else zg
            n = len(z)
            if n >= L:
                s = rng.integers(0, n - L + 1)
                x[i] = z[s:s + L]
            else:
                s = rng.integers(0, L - n + 1)
                x[i, s:s + n] = z
            self._spec_augment(x[i])
        y = np.eye(len(EMOTIONS), dtype=np.float32)[self.labels]
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
        for _ in range(cfg.time_masks):
            width = rng.integers(0, cfg.time_mask_frames + 1)
            start = rng.integers(0, len(w) - width + 1)
            w[start:start + width] = 0.0
        for _ in range(cfg.freq_masks):  # on the log-mel bands only
            width = rng.integers(0, cfg.freq_mask_bins + 1)
            start = rng.integers(0, cfg.feature.n_mels - width + 1)
            w[:, start:start + width] = 0.0


def file_logits(model, items, features, stats_of, *, cfg, batch_size=256):
    """File-level logits for ``items``, computed exactly as the Predictor computes them.

    Parameters
    ----------
    stats_of : callable(item) -> FeatureStats

    Returns
    -------
    logits : np.ndarray [shape=(len(items), n_classes)]
    """
    prepared = [prepare_windows(features[it.path], stats_of(it), config=cfg.feature, window=cfg.window)
                for it in items]
    if not prepared:
        return np.zeros((0, len(EMOTIONS)))
    allw = np.concatenate([p.windows for p in prepared])
    probs = run_model(model, allw, batch_size=batch_size)
    out, k = [], 0
    for p in prepared:
        n = len(p.windows)
        out.append(aggregate(probs[k:k + n], p.weights))
        k += n
    return np.stack(out)


def tta_file_logits(model, items, features, stats_of, *, cfg):
    """Test-time augmentation: the file logits of each recording and of its speed-perturbed
    copies (``cfg.speeds``, the training augmentation), averaged.

    ``stats_of(item, speed)`` gives the baseline of a version (``speed`` None for the
    recording itself): the global statistics alone, or the speaker's baseline in that
    condition (:func:`perturbed_speaker_stats`), as for training.
    """
    versions = [file_logits(model, items, features, lambda it: stats_of(it, None), cfg=cfg)]
    for speed in cfg.speeds:
        copies = {it.path: features[(it.path, speed)] for it in items}
        versions.append(file_logits(model, items, copies, lambda it, s=speed: stats_of(it, s), cfg=cfg))
    return np.mean(versions, axis=0)


def file_binary_logits(model, items, features, stats_of, *, cfg):
    """File-level two-class logits (no, yes) of a sigmoid head, aggregated like emotions."""
    two_class = _TwoClass(model)
    return file_logits(two_class, items, features, stats_of, cfg=cfg)


class _TwoClass:
    """A one-unit sigmoid model seen as a two-class softmax model by ``run_model``."""

    def __init__(self, model):
        self.model = model
        self.output_shape = (None, 2)

    def predict_on_batch(self, batch):
        p = np.asarray(self.model.predict_on_batch(batch))
        return np.concatenate([1.0 - p, p], axis=1)


def validation_score(model, val_items, features, global_stats, cfg, speaker=None):
    """File-level (NLL, accuracy) on the validation actors, each averaged over both
    normalisation modes (alone and with speaker baseline): what early stopping watches.

    ``speaker`` (actor -> FeatureStats) may be passed when already computed; a speaker's
    statistics depend on that actor's files only.
    """
    speaker = speaker or speaker_stats(val_items, features, config=cfg.feature)
    labels = np.array([it.label for it in val_items])
    lg = file_logits(model, val_items, features, lambda it: global_stats, cfg=cfg)
    ls = file_logits(model, val_items, features, lambda it: speaker[it.actor], cfg=cfg)
    return (_nll(lg, labels) + _nll(ls, labels)) / 2, mean_mode_accuracy((lg, ls), labels)


def mean_mode_accuracy(logits_per_mode, labels):
    """File accuracy averaged over the normalisation modes (one logits array per mode)."""
    return float(np.mean([np.mean(lg.argmax(1) == labels) for lg in logits_per_mode]))


def _nll(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels].mean())


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
                on_epoch=None, should_stop=None):
    """Train ``cfg.ensemble`` models with different seeds and average them into one.

    Averaging the probabilities of independently trained members removes much of the
    seed-to-seed spread of a small model on 60 files per speaker (measured in
    BENCHMARKS.md). The result is a single Keras model of stock layers, so the bundle
    format, the Predictor and safe_mode loading are unchanged. Parameters as
    :func:`train_member`.
    """
    import keras

    members = []
    for k in range(cfg.ensemble):
        def member_epoch(log, k=k):
            log.member = k
            if on_epoch:
                on_epoch(log)

        members.append(train_member(train_items, val_items, features, cfg, seed=seed + 1000 * k, epochs=epochs,
                                    on_epoch=member_epoch, should_stop=should_stop))
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
                 on_epoch=None, should_stop=None):
    """Train one model.

    Parameters
    ----------
    train_items, val_items : list of Item
        ``val_items`` (other actors) drive early stopping; empty means train ``epochs``
        epochs and keep the last weights.
    features : dict Path -> raw features
    cfg : TrainConfig
    seed : int
    on_epoch : callable(EpochLog) or None
    should_stop : callable() -> bool or None
        Polled after every batch; True raises :class:`TrainingCancelled`.

    Returns
    -------
    TrainedModel
    """
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    fcfg = cfg.feature
    global_stats = compute_stats([features[it.path] for it in train_items], config=fcfg)
    spk = speaker_stats(list(train_items) + list(val_items), features, config=fcfg)
    sampler = WindowSampler(train_items, features, global_stats,
                            {**spk, **perturbed_speaker_stats(train_items, features, augmented_keys(cfg), config=fcfg)},
                            cfg, rng)
    trained = build_model((cfg.window.length, fcfg.n_features), len(EMOTIONS), conv_filters=cfg.conv_filters,
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
            log.val_loss, log.val_accuracy = validation_score(model, val_items, features, global_stats, cfg, spk)
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
    return TrainedModel(model, global_stats, history, best_epoch, aux_models)
