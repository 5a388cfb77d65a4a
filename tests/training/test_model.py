"""The CNN-LSTM's variants (training.model)."""

import numpy as np
import pytest


def test_mean_pooling_model_converts_for_litert_and_agrees_with_keras(tmp_path, rng):
    """The ablation of attention pooling must ship like the attention model (LiteRT)."""
    from ser_engine.inference import run_model
    from ser_engine.litert import LiteRTModel, convert_to_tflite
    from training.model import build_model

    model = build_model((100, 119), 8, conv_filters=8, lstm_units=4, pooling="mean")  # 1 s: converts in seconds
    assert model.get_layer("mean_pooling") is not None
    assert not any(layer.name.startswith("attention") for layer in model.layers)
    (tmp_path / "m.tflite").write_bytes(convert_to_tflite(model))
    x = rng.standard_normal((3, 100, 119)).astype(np.float32)
    np.testing.assert_allclose(run_model(LiteRTModel(tmp_path / "m.tflite"), x, batch_size=2),
                               run_model(model, x, batch_size=2), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="pooling"):
        build_model((300, 119), 8, pooling="max")


def test_statistics_pooling_reads_each_windows_mean_and_mean_square_and_converts_for_litert(tmp_path, rng):
    """The stats branch gives the classifier what a linear probe reads: the window's mean and
    mean square of every input value, beside the attention-pooled vector; it ships as LiteRT."""
    import keras

    from ser_engine.inference import run_model
    from ser_engine.litert import LiteRTModel, convert_to_tflite
    from training.model import build_model

    model = build_model((100, 24), 8, conv_filters=8, lstm_units=4, pooling="attention_stats", unroll=True)
    x = rng.standard_normal((3, 100, 24)).astype(np.float32) * 2 + 1
    stats = keras.Model(model.inputs, model.get_layer("stats").output).predict(x, verbose=0)
    np.testing.assert_allclose(stats, np.concatenate([x.mean(1), (x ** 2).mean(1)], axis=1), rtol=1e-5, atol=1e-5)
    assert model.get_layer("with_stats").output.shape[-1] == 2 * 4 + 2 * 24  # BiLSTM (2 x 4) + 2 x 24
    (tmp_path / "m.tflite").write_bytes(convert_to_tflite(model))
    np.testing.assert_allclose(run_model(LiteRTModel(tmp_path / "m.tflite"), x, batch_size=2),
                               run_model(model, x, batch_size=2), atol=1e-5, rtol=0)
