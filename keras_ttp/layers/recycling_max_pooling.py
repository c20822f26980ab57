import keras
from keras import ops

from keras_ttp.ops import random
from keras_ttp.ops.selection import kth_largest_index


@keras.saving.register_keras_serializable(package="keras_ttp")
class RecyclingMaxPooling(keras.layers.Layer):
    """Max pooling over points that also returns a recycled feature.

    Given per-point features of shape `(batch, num_points, channels)`, the
    features are sorted in descending order along the point axis,
    independently for every channel. Row 0 of the sorted matrix is the usual
    max-pooled feature; row `r` is the recycled feature of ToThePoint (Li et
    al., CVPR 2023): for every channel its `(r + 1)`-th largest value.
    `r` is drawn uniformly from `[1, num_points - 1]` by a seeded Keras random
    generator, once per call and shared by the batch (as in the authors'
    code), or once per sample with `per_sample=True`.

    Args:
        per_sample: draw one `r` per sample instead of one per call.
        stop_gradient: stop the gradient through the recycled feature.
        return_utilization: also return the point utilisation, an int32
            tensor `(batch, 3)` holding, per sample, the number of distinct
            points that win at least one channel of the max row, of the
            recycled row, and of either (the paper's Table 1). Of points
            whose values tie, the first one wins.
        seed: seed of the random generator of `r`.

    Call arguments:
        inputs: per-point features `(batch, num_points, channels)`.
        rank: optional int tensor fixing `r` (scalar, or `(batch,)` with
            `per_sample=True`) instead of drawing it; used by tests and for
            analysis.

    Returns:
        `(max_features, recycled_features)`, each `(batch, channels)`,
        followed by the utilisation when `return_utilization=True`.

    Example:
    >>> pool = RecyclingMaxPooling(seed=0)
    >>> x = np.random.rand(2, 64, 8).astype("float32")
    >>> maximum, recycled = pool(x)
    >>> maximum.shape, recycled.shape
    ((2, 8), (2, 8))
    """

    def __init__(
        self,
        per_sample=False,
        stop_gradient=False,
        return_utilization=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.per_sample = per_sample
        self.stop_gradient = stop_gradient
        self.return_utilization = return_utilization
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        check_features_shape(input_shape)

    def call(self, inputs, rank=None):
        if rank is None:
            rank = draw_rank(inputs, self.per_sample, self.seed_generator)
        recycled_index = kth_largest_index(inputs, rank)
        recycled = ops.take_along_axis(
            inputs, ops.expand_dims(recycled_index, 1), axis=1
        )[:, 0]
        maximum = ops.max(inputs, axis=1)
        if self.stop_gradient:
            recycled = ops.stop_gradient(recycled)
        if not self.return_utilization:
            return maximum, recycled
        max_index = ops.cast(ops.argmax(inputs, axis=1), "int32")
        recycled_index = ops.cast(recycled_index, "int32")
        utilization = ops.stack(
            [
                count_distinct(max_index),
                count_distinct(recycled_index),
                count_distinct(ops.concatenate([max_index, recycled_index], axis=1)),
            ],
            axis=1,
        )
        return maximum, recycled, utilization

    def compute_output_shape(self, input_shape):
        feature_shape = (input_shape[0], input_shape[2])
        if self.return_utilization:
            return feature_shape, feature_shape, (input_shape[0], 3)
        return feature_shape, feature_shape

    def compute_output_spec(self, inputs, rank=None):
        shapes = self.compute_output_shape(inputs.shape)
        dtypes = (inputs.dtype, inputs.dtype, "int32")
        return tuple(
            keras.KerasTensor(shape, dtype=dtype)
            for shape, dtype in zip(shapes, dtypes)
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "per_sample": self.per_sample,
                "stop_gradient": self.stop_gradient,
                "return_utilization": self.return_utilization,
                "seed": self.seed,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_ttp")
class RecycledRank(keras.layers.Layer):
    """Draws ToThePoint's recycled rank `r` for clouds `(batch, num_points,
    ...)`: uniformly from `[1, num_points - 1]`, once per call and shared by
    the batch (as in the authors' code), or once per sample with
    `per_sample=True` (`(batch,)` int32), from a seeded Keras generator.

    Example:
    >>> rank = RecycledRank(seed=0)(np.zeros((4, 1024, 3), "float32"))
    """

    def __init__(self, per_sample=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.per_sample = per_sample
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, points):
        return draw_rank(points, self.per_sample, self.seed_generator)

    def compute_output_spec(self, points):
        shape = (points.shape[0],) if self.per_sample else ()
        return keras.KerasTensor(shape, dtype="int32")

    def get_config(self):
        config = super().get_config()
        config.update({"per_sample": self.per_sample, "seed": self.seed})
        return config


def draw_rank(x, per_sample, seed_generator):
    """`r` uniform in `[1, num_points - 1]` for `x` `(batch, num_points,
    ...)`: a scalar, or `(batch,)` when `per_sample`."""
    batch_size, num_points = ops.shape(x)[0], ops.shape(x)[1]
    shape = (batch_size,) if per_sample else ()
    # Under a tf.distribute strategy every replica draws the same
    # once-per-call `r`, and its own rows of the per-sample ones.
    return random.randint(shape, 1, num_points, seed_generator)


def check_features_shape(shape):
    if len(shape) != 3:
        raise ValueError(
            "RecyclingMaxPooling expects per-point features of shape "
            f"(batch, num_points, channels), got shape {shape}."
        )
    if shape[1] is not None and shape[1] < 2:
        raise ValueError(
            "RecyclingMaxPooling needs at least 2 points to recycle a "
            f"feature, got shape {shape}."
        )




















def count_distinct(indices):
    """Number of distinct values in each row of an int tensor `(batch, n)`."""
    indices = ops.sort(indices, axis=1)
    changes = ops.not_equal(indices[:, 1:], indices[:, :-1])
    return 1 + ops.sum(ops.cast(changes, "int32"), axis=1)
