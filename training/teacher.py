"""A pooled-encoder teacher: a linear probe on each recording's speech-encoder states, whose
probabilities a classic CNN-LSTM can be trained towards (distillation).

The probe is the reference of the pretrained-ear issue (BENCHMARKS.md, "The linear probe on
pooled encoder states"): a recording's encoder states over its speech regions, normalised
with the training recordings' frame statistics, pooled to their mean and standard deviation
(768 values), standardised, and classified by a logistic regression (scikit-learn). Its
targets for training recordings are cross-fitted by actor, so no recording is labelled by a
probe that was fitted on it (which would hand the student its own labels back).
"""

import numpy as np

#: Inverse regularisation of the logistic regression (the probe's measured setting).
PROBE_C = 0.01
#: Actor groups of the cross-fitting: each group's targets come from a probe fitted on the others.
TEACHER_GROUPS = 4


def joined(states):
    """One recording's encoder states as one array: its regions one after the other (one
    all-zero frame for a recording without speech)."""
    return np.concatenate(states) if len(states) else np.zeros((1, 384), np.float32)


class PooledProbe:
    """Logistic regression on pooled, normalised encoder states."""

    def __init__(self, c=PROBE_C):
        self.c = c

    def _pool(self, S):
        Z = (np.asarray(S, np.float32) - self.frame_mean) / self.frame_std
        return np.concatenate([Z.mean(0), Z.std(0)])

    def _design(self, recordings):
        return (np.array([self._pool(S) for S in recordings]) - self.mu) / self.sd

    def fit(self, recordings, labels):
        """``recordings``: one (frames, 384) array per recording; ``labels``: class indices."""
        from sklearn.linear_model import LogisticRegression

        frames = np.concatenate(recordings).astype(np.float32)
        self.frame_mean, self.frame_std = frames.mean(0), frames.std(0) + 1e-3
        pooled = np.array([self._pool(S) for S in recordings])
        self.mu, self.sd = pooled.mean(0), pooled.std(0) + 1e-6
        self.classifier = LogisticRegression(C=self.c, max_iter=3000).fit((pooled - self.mu) / self.sd, labels)
        return self

    def predict_proba(self, recordings, n_classes):
        """(recordings, n_classes) probabilities; a class the fit never saw gets 0."""
        p = np.zeros((len(recordings), n_classes))
        p[:, self.classifier.classes_] = self.classifier.predict_proba(self._design(recordings))
        return p


def teacher_targets(items, states, n_classes, *, groups=TEACHER_GROUPS, c=PROBE_C):
    """Cross-fitted teacher probabilities of ``items`` (training recordings).

    Parameters
    ----------
    items : list of Item
    states : dict path -> list of np.ndarray
        Each recording's encoder states by speech region
        (:func:`~training.cache.extract_encoder_states`).
    n_classes : int

    Returns
    -------
    dict path -> np.ndarray [shape=(n_classes,)]
        Probabilities from a probe fitted on the other actor groups' recordings.
    """
    actors = sorted({it.actor for it in items})
    if len(actors) < 2:
        raise ValueError("a cross-fitted teacher needs recordings of at least 2 actors")
    group_of = {a: k % min(groups, len(actors)) for k, a in enumerate(actors)}
    S = [joined(states[it.path]) for it in items]
    y = np.array([it.label for it in items])
    g = np.array([group_of[it.actor] for it in items])
    out = {}
    for k in np.unique(g):
        fit, held = np.flatnonzero(g != k), np.flatnonzero(g == k)
        probe = PooledProbe(c).fit([S[i] for i in fit], y[fit])
        for i, p in zip(held, probe.predict_proba([S[i] for i in held], n_classes), strict=True):
            out[items[i].path] = p
    return out
