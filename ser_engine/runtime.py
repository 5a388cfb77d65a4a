"""Process-wide settings that must happen before TensorFlow is imported."""

import os


def quiet_tensorflow():
    """Keep TensorFlow's C++ start-up chatter (CPU flags, missing CUDA) off the user's terminal."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
