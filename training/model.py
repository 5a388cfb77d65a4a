"""The CNN-LSTM: convolutional feature detector, bidirectional LSTM, attention pooling.

Built from stock Keras layers only, so a bundle loads with ``safe_mode=True`` and no
custom objects.
"""

#: Names of the auxiliary outputs of a multi-task model (binary targets from the RAVDESS
#: file name): strong intensity, and male speaker.
AUX_OUTPUTS = ("intensity", "sex")


def build_model(input_shape, n_classes, *, conv_filters=128, lstm_units=64, dropout=0.3,
                learning_rate=1e-3, input_noise=0.0, weight_decay=0.0, label_smoothing=0.05,
                lstm_layers=1, aux_weight=0.0, pooling="attention", unroll=False):
    """Conv1D x2 -> BiLSTM (residual stack) -> attention (or mean) pooling -> softmax.

    Parameters
    ----------
    input_shape : tuple (frames, n_features)
    n_classes : int
    lstm_layers : int
        BiLSTM layers; each one after the first adds its input back (residual).
    pooling : {"attention", "mean", "attention_stats"}
        How the time steps become one vector: a learned weight per step (softmax over time),
        or their plain mean (the ablation of attention). "attention_stats" adds beside the
        attention-pooled vector the window's statistics of its input frames (mean and mean
        square of each value, the pooled statistics a linear probe on encoder states reads),
        so the classifier sees the whole window's average voice as well as its moments.
    aux_weight : float
        > 0 adds the :data:`AUX_OUTPUTS` heads (sigmoid) on the pooled vector, each with
        this loss weight; the model then has a list of outputs, emotion first.
    unroll : bool
        Unrolled LSTM (fixed number of steps): needed to convert the model for LiteRT.

    Returns
    -------
    model : keras.Model, compiled with Adam (AdamW with ``weight_decay``) and categorical
        cross-entropy.
    """
    import keras
    from keras import layers

    inp = keras.Input(shape=input_shape, name="features")
    x = layers.GaussianNoise(input_noise)(inp) if input_noise else inp
    for i in range(2):  # local spectral-temporal patterns, time downsampled 4x
        x = layers.Conv1D(conv_filters, 5, padding="same", name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling1D(2)(x)
    x = layers.SpatialDropout1D(0.1)(x)
    x = layers.Bidirectional(layers.LSTM(lstm_units, return_sequences=True, unroll=unroll), name="bilstm")(x)
    for i in range(1, lstm_layers):
        y = layers.Bidirectional(layers.LSTM(lstm_units, return_sequences=True, unroll=unroll), name=f"bilstm{i}")(x)
        x = layers.Add(name=f"residual{i}")([x, y])
    if pooling in ("attention", "attention_stats"):  # a learned weight per time step, softmax over time
        scores = layers.Dense(1, name="attention_score")(x)
        weights = layers.Softmax(axis=1, name="attention_weights")(scores)
        pooled = layers.Flatten()(layers.Dot(axes=1)([weights, x]))
        if pooling == "attention_stats":
            pooled = layers.Concatenate(name="with_stats")([pooled, _input_statistics(inp, dropout)])
    elif pooling == "mean":
        pooled = layers.GlobalAveragePooling1D(name="mean_pooling")(x)
    else:
        raise ValueError(f"pooling must be 'attention', 'mean' or 'attention_stats', not {pooling!r}")
    x = layers.Dropout(dropout)(pooled)
    out = layers.Dense(n_classes, activation="softmax", name="emotion")(x)
    optimizer = (keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay) if weight_decay
                 else keras.optimizers.Adam(learning_rate))
    emotion_loss = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    if not aux_weight:
        model = keras.Model(inp, out, name="ser_cnn_lstm")
        model.compile(optimizer=optimizer, loss=emotion_loss, metrics=["accuracy"])
        return model
    aux = [layers.Dense(1, activation="sigmoid", name=name)(x) for name in AUX_OUTPUTS]
    model = keras.Model(inp, [out, *aux], name="ser_cnn_lstm_multitask")
    model.compile(optimizer=optimizer, loss=[emotion_loss] + ["binary_crossentropy"] * len(aux),
                  loss_weights=[1.0] + [aux_weight] * len(aux),
                  metrics=[["accuracy"]] + [[] for _ in aux])
    return model


def _input_statistics(inp, dropout):
    """Mean and mean square over time of each input value (stock layers, so LiteRT converts
    it), batch-normalised since the two are on different scales."""
    from keras import layers

    mean = layers.GlobalAveragePooling1D(name="stats_mean")(inp)
    square = layers.GlobalAveragePooling1D(name="stats_square")(layers.Multiply(name="stats_sq")([inp, inp]))
    stats = layers.BatchNormalization(name="stats_bn")(layers.Concatenate(name="stats")([mean, square]))
    return layers.Dropout(dropout, name="stats_dropout")(stats)


def output_model(model, name):
    """The single-output model of one head of a multi-task model (weights shared)."""
    import keras

    return keras.Model(model.inputs, model.get_layer(name).output, name=f"{model.name}_{name}")
