"""The model card's text follows the bundle it describes."""

from training.report import model_card


def _manifest(noise_snrs):
    return {"model_id": "m", "version": "0.1.0", "created": "2026-11-25T00:00:00+00:00",
            "software": {"ser_studio": "0.1.0", "keras": "3"}, "labels": ["neutral", "calm"],
            "training_data": {"description": "d", "files": 2, "actors": [1, 2]},
            "training": {"config": {"noise_snrs": noise_snrs}},
            "evaluation": {"note": "quick"}}


def test_the_room_noise_limit_says_whether_the_model_was_trained_with_noisy_copies():
    noisy = model_card(_manifest([20, 10]), {})
    clean = model_card(_manifest([]), {})
    assert "trained with copies of its recordings in white noise 20 and 10 dB below the speech" in noisy
    assert "pink, brown and babble noise and reverberation" in noisy
    assert "less than 5 dB above the noise around it are too" in noisy
    assert "a session less than 25 dB above its noise is marked uncertain" in noisy
    assert "the model was not trained with noise" in clean and "20 and 10 dB" not in clean
    # an older bundle without the field reads as trained without noise
    old = _manifest([])
    del old["training"]["config"]["noise_snrs"]
    assert "the model was not trained with noise" in model_card(old, {})


def test_the_card_names_the_pooling_and_the_teacher_the_model_was_trained_with():
    plain = _manifest([])
    stats = _manifest([])
    stats["training"]["config"] |= {"pooling": "attention_stats", "lstm_layers": 2, "distill": 0.5}
    assert "a bidirectional LSTM, attention pooling)" in model_card(plain, {})
    assert "teacher" not in model_card(plain, {})
    card = model_card(stats, {})
    assert "2 stacked bidirectional LSTMs, attention pooling beside the window's mean and mean square" in card
    assert "50% of each target came from a teacher" in card
    assert "the encoder does not run when this model labels" in card  # no front end named: classic
    stats["front_end"] = {"kind": "both"}
    assert "the encoder does not run" not in model_card(stats, {})


def test_the_card_says_an_ensemble_is_several_networks_averaged():
    one = _manifest([])
    three = _manifest([])
    three["training"]["config"]["ensemble"] = 3
    assert "A CNN-LSTM (two 1-D convolutions" in model_card(one, {})
    card = model_card(three, {})
    assert "An ensemble of 3 CNN-LSTMs (each: two 1-D convolutions" in card
    assert "their probabilities averaged in one model" in card and "A CNN-LSTM (" not in card
