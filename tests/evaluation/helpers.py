"""Test helpers of the evaluation tests."""

import keras
import numpy as np


def identity_backbone():
    """A weightless stand-in for a backbone whose per-point features are the
    coordinates themselves, so its outputs can be computed by hand."""
    inputs = keras.Input(shape=(None, 3))
    return keras.Model(
        inputs,
        {
            "point_features": keras.layers.Identity()(inputs),
            "global_features": keras.layers.GlobalMaxPooling1D()(inputs),
        },
    )


# Two clouds of two points. Per channel, the winner of the max row and of
# the min row (the only recycled row, r = 1, of a two-point cloud):
#   cloud 0: p0 = (1, 0, 5), p1 = (0, 2, 3): max (p0, p1, p0), min (p1, p0, p1)
#   cloud 1: p0 = (1, 1, 1), p1 = (0, 0, 0): max (p0, p0, p0), min (p1, p1, p1)
TWO_POINT_CLOUDS = np.array(
    [[[1, 0, 5], [0, 2, 3]], [[1, 1, 1], [0, 0, 0]]], dtype="float32"
)
