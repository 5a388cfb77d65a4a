"""Rebuilding the model from a local RAVDESS folder. Pure Python; never imports Qt."""
