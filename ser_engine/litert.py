"""The bundle's model through LiteRT (``ai-edge-litert``), without importing TensorFlow.

At bundle-write time :func:`convert_to_tflite` turns the Keras model (the source of truth,
kept as ``model.keras``) into ``model.tflite``: the same layers and weights rebuilt with
unrolled LSTMs (a fixed number of steps; a looping LSTM does not convert), exported as a
SavedModel and converted. This imports TensorFlow, as training does anyway.

At run time :class:`LiteRTModel` runs ``model.tflite`` with the small LiteRT interpreter
(~0.1 s to import and load, against ~2.5 s for TensorFlow + Keras), with the two methods
:func:`ser_engine.inference.run_model` uses, so the data path is the same for both runtimes.
The outputs equal Keras's within 1e-5 (tests/ser_engine/test_litert.py).
"""

import contextlib
import logging
import os
import sys
import tempfile

import numpy as np

logger = logging.getLogger(__name__)

NUM_THREADS = 2


def convert_to_tflite(model):
    """The ``.tflite`` bytes of a Keras model (single or ensemble), LSTMs unrolled.

    Parameters
    ----------
    model : keras.Model
        Any functional model of stock layers; nested models (an ensemble's members) included.

    Returns
    -------
    data : bytes
    """
    import tensorflow as tf

    unrolled = _with_unrolled_lstms(model)
    with tempfile.TemporaryDirectory(prefix="ser-export-") as tmp:
        unrolled.export(tmp, verbose=False)
        return tf.lite.TFLiteConverter.from_saved_model(tmp).convert()


def _with_unrolled_lstms(model):

    config = _set_unroll(model.get_config())
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    if not any(_lstm_unrolled(layer) for layer in _all_layers(copy)):
        raise ValueError("the model has no unrolled LSTM after rebuilding; cannot convert it")
    return copy


def _set_unroll(obj):
    """A copy of a Keras config with ``unroll=True`` in every recurrent layer (at any depth)."""
    if isinstance(obj, dict):
        return {k: (True if k == "unroll" else _set_unroll(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_set_unroll(v) for v in obj]
    return obj


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def _lstm_unrolled(layer):
    inner = [getattr(layer, "forward_layer", None), getattr(layer, "backward_layer", None), layer]
    return any(getattr(x, "unroll", False) for x in inner if x is not None)


class LiteRTModel:
    """A ``model.tflite`` behind the interface :func:`~ser_engine.inference.run_model` needs.

    Not thread-safe: one interpreter, used from one worker thread.
    """

    def __init__(self, path, *, num_threads=None):
        from ai_edge_litert.interpreter import Interpreter

        with _native_stderr_quiet():
            self._interpreter = Interpreter(model_path=str(path), num_threads=num_threads or NUM_THREADS)
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self._batch_shape = None
        self.input_shape = (None, *map(int, self._input["shape"][1:]))
        self.output_shape = (None, *map(int, self._output["shape"][1:]))

    def predict_on_batch(self, batch):
        """Probabilities of one batch; the interpreter is sized to the first batch's shape
        (``run_model`` pads every batch to the same size, so this happens once)."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if batch.shape != self._batch_shape:
            self._interpreter.resize_tensor_input(self._input["index"], list(batch.shape))
            with _native_stderr_quiet():  # the XNNPACK delegate is created here, lazily
                self._interpreter.allocate_tensors()
            self._batch_shape = batch.shape
        self._interpreter.set_tensor(self._input["index"], batch)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output["index"]).copy()


@contextlib.contextmanager
def _native_stderr_quiet():
    """The process's stderr (file descriptor 2) pointed at /dev/null for the duration.

    LiteRT's C++ runtime prints "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." when
    it creates its delegate, straight to the descriptor, with no Python-side setting to stop
    it (upstream: tensorflow/tensorflow#58050): it landed in the middle of `ser` output. A
    Python exception raised inside still propagates; only native prints are lost, for
    milliseconds.
    """
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # no real stderr (a frozen GUI app): nothing to hide
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)
