"""Cutting a frame sequence into the fixed-length windows the model reads."""

import numpy as np


def window_starts(n_frames, *, length, hop):
    """Start frames of analysis windows covering ``n_frames`` frames.

    One window when the sequence fits in one; otherwise windows every ``hop`` frames,
    plus one ending exactly at the last frame so the tail is never dropped.

    Returns
    -------
    starts : np.ndarray [shape=(n_windows,), dtype=int64]
    """
    if n_frames <= length:
        return np.zeros(1, np.int64)
    starts = np.arange(0, n_frames - length + 1, hop, dtype=np.int64)
    if starts[-1] + length < n_frames:
        starts = np.append(starts, n_frames - length)
    return starts


def make_windows(Z, *, length, hop):
    """Fixed-length windows of a normalised feature sequence.

    A sequence shorter than ``length`` is centred in one window and padded with zeros
    (the mean, after normalisation).

    Parameters
    ----------
    Z : np.ndarray [shape=(frames, n_features)]
    length, hop : int
        Window length and hop in frames.

    Returns
    -------
    windows : np.ndarray [shape=(n_windows, length, n_features), dtype=float32]
    starts : np.ndarray [shape=(n_windows,)]
        Start frame of each window in ``Z`` (negative when a short sequence is centred).
    """
    n, d = Z.shape
    if n < length:
        out = np.zeros((1, length, d), np.float32)
        offset = (length - n) // 2
        out[0, offset:offset + n] = Z
        return out, np.array([-offset], np.int64)
    starts = window_starts(n, length=length, hop=hop)
    view = np.lib.stride_tricks.sliding_window_view(Z, length, axis=0)  # (n-length+1, d, length)
    return np.ascontiguousarray(view[starts].transpose(0, 2, 1), dtype=np.float32), starts
