"""The seed project's model, as source for the seed-style child scripts of bench_long and
bench_startup (each runs it in a fresh ``python -c`` process, so it is text, not a function)."""

#: Builds ``model``: Conv1D x2 -> LSTM(64) -> softmax over 180 mean features, as the seed did.
#: Needs ``keras`` and ``layers`` (keras.layers) imported by the script around it.
SEED_MODEL_CODE = r'''
model = keras.Sequential([
    keras.Input(shape=(180, 1)),
    layers.Conv1D(64, 5, padding="same", activation="relu"),
    layers.MaxPooling1D(2),
    layers.Conv1D(128, 5, padding="same", activation="relu"),
    layers.MaxPooling1D(2),
    layers.LSTM(64),
    layers.Dense(8, activation="softmax"),
])
'''
