"""Checks at the public entries of keras-ttp's models: the point clouds
given to `__call__`, `fit`, `predict` and `evaluate`."""

import numpy as np

from keras_ttp.datasets.validation import check_points


def check_input_points(x, model):
    """Checks the clouds a user gives `model`'s `fit`, `predict`,
    `evaluate` or `__call__`: the `(batch, num_points, 3)` float array (or
    the `"points"` of a dict input) when it is a numpy array:
    its shape (the backbone's `check_points_shape`), an empty batch, and
    NaN or infinite coordinates (`check_points`).
    Tensors, symbolic inputs and data sets pass through: the models check
    their shapes, and the data sets their values."""
    points = x.get("points") if isinstance(x, dict) else x
    if not isinstance(points, np.ndarray):
        return
    backbone = getattr(model, "backbone", model)
    backbone.check_points_shape(points.shape)
    source = f"the point clouds given to {model.__class__.__name__}"
    if points.shape[0] == 0:
        raise ValueError(f"{source}: an empty batch, shape {points.shape}")
    check_points(points, source, ndim=3)


class ChecksInputPoints:
    """Mixin for `keras.Model` subclasses: `fit`, `predict` and `evaluate`
    check the clouds they are given (`check_input_points`) before Keras
    slices them into batches."""

    def fit(self, x=None, *args, **kwargs):
        check_input_points(x, self)
        return super().fit(x, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        check_input_points(x, self)
        return super().predict(x, *args, **kwargs)

    def evaluate(self, x=None, *args, **kwargs):
        check_input_points(x, self)
        return super().evaluate(x, *args, **kwargs)

    def predict_on_batch(self, x):
        check_input_points(x, self)
        return super().predict_on_batch(x)

