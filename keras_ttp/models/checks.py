"""Checks at the public entries of keras-ttp's models: constructor keyword
arguments, and the point clouds given to `__call__`, `fit`, `predict` and
`evaluate`."""

import inspect

import numpy as np

from keras_ttp.datasets.validation import check_points

# What `keras.Model.__init__` takes besides a subclass's own arguments.
MODEL_KEYWORDS = ("name", "trainable", "dtype")


def check_keyword_arguments(cls, kwargs, allowed=MODEL_KEYWORDS):
    """Raises `TypeError` for the keyword arguments in `kwargs` that neither
    `cls`'s constructor nor Keras (`allowed`) takes, listing those accepted:
    a misspelled argument must not be silently ignored."""
    unknown = sorted(set(kwargs) - set(allowed))
    if not unknown:
        return
    parameters = inspect.signature(cls.__init__).parameters.values()
    accepted = [
        p.name for p in parameters
        if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]  # fmt: skip
    raise TypeError(
        f"{cls.__name__} got unexpected keyword argument(s) "
        f"{', '.join(repr(name) for name in unknown)}. It accepts: "
        f"{', '.join(accepted + [a for a in allowed if a not in accepted])}."
    )


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

