import numpy as np


def test_run_model_pads_batches_and_matches_a_direct_call(tiny_bundle, rng):
    from ser_engine.bundle import load_bundle
    from ser_engine.inference import run_model

    model = load_bundle(tiny_bundle).load_keras_model()
    x = rng.standard_normal((5,) + tuple(model.input_shape[1:])).astype(np.float32)
    direct = np.asarray(model(x, training=False))
    for batch_size in (2, 5, 8):
        np.testing.assert_allclose(run_model(model, x, batch_size=batch_size), direct, atol=1e-5)
    assert run_model(model, x[:0], batch_size=4).shape == (0, 8)
