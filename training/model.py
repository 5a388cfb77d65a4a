"""The CNN-LSTM: convolutional feature detector, bidirectional LSTM, attention pooling.

Built from stock Keras layers only, so a bundle loads with ``safe_mode=True`` and no
custom objects.
"""


def build_model(input_shape, n_classes, *, conv_filters=128, lstm_units=64, dropout=0.3,
                learning_rate=1e-3, input_noise=0.0, weight_decay=0.0, unroll=False):
    """Conv1D x2 -> BiLSTM -> attention pooling -> softmax.

    Parameters
    ----------
    input_shape : tuple (frames, n_features)
    n_classes : int
    unroll : bool
        Unrolled LSTM (fixed number of steps): needed to convert the model for LiteRT.

    Returns
    -------
    model : keras.Model, compiled with Adam and categorical cross-entropy.
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
    # Attention pooling: a learned weight per time step, softmax over time, weighted sum.
    scores = layers.Dense(1, name="attention_score")(x)
    weights = layers.Softmax(axis=1, name="attention_weights")(scores)
    pooled = layers.Flatten()(layers.Dot(axes=1)([weights, x]))
    x = layers.Dropout(dropout)(pooled)
    out = layers.Dense(n_classes, activation="softmax", name="emotion")(x)
    model = keras.Model(inp, out, name="ser_cnn_lstm")
    optimizer = (keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay) if weight_decay
                 else keras.optimizers.Adam(learning_rate))
    model.compile(optimizer=optimizer,
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.05), metrics=["accuracy"])
    return model
