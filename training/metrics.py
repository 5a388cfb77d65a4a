"""Classification metrics computed from scratch on integer labels (no scikit-learn call
in the hot path; the definitions are the standard ones)."""

import numpy as np


def confusion_matrix(y_true, y_pred, n_classes):
    """Counts, rows = true class, columns = predicted class.

    Returns
    -------
    cm : np.ndarray [shape=(n_classes, n_classes), dtype=int64]
    """
    cm = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def summarise(y_true, y_pred, n_classes):
    """Accuracy, macro-F1, UAR (mean per-class recall) and per-class recall."""
    cm = confusion_matrix(y_true, y_pred, n_classes)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    tp = np.diag(cm).astype(float)
    recall = np.divide(tp, support, out=np.zeros(n_classes), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros(n_classes), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(n_classes),
                   where=(precision + recall) > 0)
    present = support > 0
    return {
        "accuracy": float(tp.sum() / max(cm.sum(), 1)),
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "uar": float(recall[present].mean()) if present.any() else 0.0,
        "per_class_recall": recall.tolist(),
        "confusion": cm.tolist(),
        "n": int(cm.sum()),
    }


def expected_calibration_error(probs, y_true, n_bins=15):
    """ECE of the top-class confidence, equal-width bins."""
    probs = np.asarray(probs)
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.asarray(y_true)
    edges = np.linspace(0, 1, n_bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            ece += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return float(ece)


def reliability_curve(probs, y_true):
    """P(correct | calibrated confidence): isotonic regression of correctness on the top-class
    confidence, the smooth, monotone form of a reliability diagram.

    Returns
    -------
    curve : callable(np.ndarray of confidences) -> np.ndarray of accuracies
    """
    from sklearn.isotonic import IsotonicRegression

    probs = np.asarray(probs)
    correct = (probs.argmax(axis=1) == np.asarray(y_true)).astype(float)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    iso.fit(probs.max(axis=1), correct)
    return iso.predict


def uncertain_threshold(probs, y_true, *, accuracy=0.5, step=0.01):
    """The lowest calibrated confidence from which the reliability curve reaches ``accuracy``.

    Below it a label is more often wrong than right (for the default 0.5), which is what
    "uncertain" tells the user. Read off the out-of-fold reliability curve, so it is chosen
    from data the models did not train on.
    """
    curve = reliability_curve(probs, y_true)
    grid = np.arange(0.0, 1.0 + step / 2, step)
    ok = np.nonzero(curve(grid) >= accuracy)[0]
    return float(round(grid[ok[0]], 4)) if len(ok) else 1.0
