import keras
import numpy as np
from keras import ops

from keras_ttp.layers.argmax import first_true_index
from keras_ttp.layers.argmax import last_axis_argmax
from keras_ttp.layers.batch_norm_max import dense_batch_norm_rows
from keras_ttp.utils import random
from keras_ttp.utils.compiling import one_sample_at_a_time_under_xla


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

    def draw_rank(self, batch_size, num_points):
        """Draws `r` uniformly from `[1, num_points - 1]` (under a
        tf.distribute strategy every replica draws the same once-per-call
        `r`, and its own rows of the per-sample ones: `utils.random`)."""
        shape = (batch_size,) if self.per_sample else ()
        return random.randint(shape, 1, num_points, self.seed_generator)

    def call(self, inputs, rank=None):
        if rank is None:
            rank = self.draw_rank(ops.shape(inputs)[0], ops.shape(inputs)[1])
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

    def pool_dense_batch_norm(
        self, dense, bn, x, training, activation=None, rank=None
    ):
        """`self(activation(bn(dense(x))))` without utilisation, computed
        without the `(batch, points, units)` features in the backward pass
        (`dense_batch_norm_rows`): the same value and gradient, and the
        same `bn` statistics and update, for a `Dense` without activation,
        its `BatchNormalization` and a non-decreasing `activation` (or
        None). `x` `(batch, points, in_channels)` is the input of `dense`;
        `rank` fixes `r` as in `call`.

        Returns `(max_features, recycled_features)`, each `(batch, units)`.
        """
        check_features_shape(x.shape)
        if not self.built:
            # Calling the layer would build it; used this way it stays
            # unbuilt, and with any layer unbuilt Keras's jax and torch
            # trainers build the whole model again in every `train_on_batch`
            # and `test_on_batch`, and jax's `predict_on_batch` runs it
            # eagerly once per call: a PointNet step (B=32, N=1024) took
            # 1.15 s instead of 1.03 s on jax, 14.98 s instead of 7.65 s on
            # torch (docs/benchmarks/2026-12-02-unbuilt-layer.txt).
            self.build(tuple(x.shape[:-1]) + (dense.units,))
        batch_size, num_points = ops.shape(x)[0], ops.shape(x)[1]
        if rank is None:
            rank = self.draw_rank(batch_size, num_points)
        ranks = ops.broadcast_to(ops.cast(rank, "int32"), (batch_size,))

        def select(oriented, rank):
            first = last_axis_argmax(oriented)
            recycled = ops.cast(last_axis_kth_largest_index(oriented, rank), "int32")
            return ops.stack([first, recycled], axis=-1)

        values = dense_batch_norm_rows(dense, bn, x, training, select, (ranks,))
        if activation is not None:
            values = activation(values)
        maximum, recycled = values[..., 0], values[..., 1]
        if self.stop_gradient:
            recycled = ops.stop_gradient(recycled)
        return maximum, recycled

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


def kth_largest_index(x, rank):
    """For every sample and channel of `x` `(batch, n, channels)`, the index
    along axis 1 of its `(rank + 1)`-th largest value; `rank` is a scalar or
    one per sample `(batch,)`. Ties go to the first point holding the value.

    The float32 values are mapped to int32 keys in the same order, and the
    `(rank + 1)`-th largest key found per channel: the exact value. On
    tensorflow and jax by a selection rather than a sort: 32 bisection
    steps on the keys find the largest key with at least `rank + 1` keys at
    or above it. Each step is a comparison and a count over the points,
    which XLA fuses and vectorises well, where its sort is 6x-57x slower
    on this CPU. On torch, whose eager mode runs each step as separate
    passes, by sorting the keys, 5x faster there
    (docs/benchmarks/2026-12-02-torch-sort-selection.txt).

    Under XLA the samples go one at a time (`ops.map`), so the keys and
    masks of the 32 steps exist for one sample at a time: faster on this
    CPU (1.5x with tensorflow, 2.6x with jax, alone) and 2 GiB less peak
    memory in the jax PointNet step (docs/benchmarks/
    2026-12-01-recycling-per-sample.txt).
    """
    ranks = ops.broadcast_to(ops.cast(rank, "int32"), ops.shape(x)[:1])
    return one_sample_at_a_time_under_xla(
        lambda x, rank: last_axis_kth_largest_index(ops.transpose(x, (0, 2, 1)), rank),
        x,
        ranks,
    )


def last_axis_kth_largest_index(x, rank):
    """`kth_largest_index` for the whole batch at once, with the points
    last: `x` `(batch, channels, n)`."""
    keys = float32_keys(x)
    if keras.backend.backend() == "torch":
        key = kth_largest_key_by_sort(keys, rank)
    else:
        key = kth_largest_key_by_bisection(keys, rank)
    return first_true_index(keys == key)


def kth_largest_key_by_bisection(keys, rank):
    """The `(rank + 1)`-th largest of the int32 `keys` `(batch, channels,
    n)` along the last axis, `(batch, channels, 1)`, by 32 bisection steps,
    each a comparison and a count over the keys."""
    needed = ops.reshape(ops.cast(rank, "int32") + 1, (-1, 1, 1))
    # At least `needed` keys are >= low, and the answer is <= high. The
    # whole int32 range takes the same 32 steps as the keys' own (min, max)
    # would, without two passes over the keys to find it: recycling's
    # selection 1.5x faster under tensorflow+XLA, 1.2x under jax
    # (docs/benchmarks/2026-12-02-recycling-full-range.txt).
    low = ops.full_like(keys[..., :1], np.iinfo("int32").min)
    high = ops.full_like(keys[..., :1], np.iinfo("int32").max)
    for _ in range(32):
        # ceil((low + high) / 2) without int32 overflow.
        middle = ops.bitwise_or(low, high) - ops.right_shift(
            ops.bitwise_xor(low, high), 1
        )
        enough = count_at_least(keys, middle) >= needed
        low = ops.where(enough, middle, low)
        high = ops.where(enough, high, middle - 1)
    return low


def kth_largest_key_by_sort(keys, rank):
    """`kth_largest_key_by_bisection` by sorting the keys. On torch, which
    runs each of the bisection's comparisons and counts as its own eager
    pass, 5x faster on (1024, 2048) samples
    (docs/benchmarks/2026-12-02-torch-sort-selection.txt); under XLA on
    this CPU sorting is far slower than the bisection."""
    n = ops.shape(keys)[-1]
    position = ops.reshape(n - 1 - ops.cast(rank, "int32"), (-1, 1, 1))
    position = ops.broadcast_to(position, ops.shape(keys)[:-1] + (1,))
    return ops.take_along_axis(ops.sort(keys, axis=-1), position, axis=-1)


def float32_keys(x):
    """int32 keys of `x` as float32 in the same order: larger float, larger
    key (-0.0 just below +0.0, NaNs beyond the infinities)."""
    bits = ops.view(ops.cast(x, "float32"), "int32")
    # Negative floats order backwards as integers: flip their magnitude bits.
    return ops.where(bits >= 0, bits, ops.bitwise_xor(bits, np.int32(0x7FFFFFFF)))


def count_at_least(keys, threshold):
    """How many of the `keys` `(..., n)` are `>= threshold` `(..., 1)`, as
    `(..., 1)` int32: a float mat-vec of the mask with a ones vector,
    which under XLA (tensorflow, jax) runs in the BLAS, 1.2x (jax) to 2x
    (tensorflow) faster than the integer sum XLA emits (measured on
    (32, 1024, 2048) keys, 32 bisection steps)."""
    mask = keys >= threshold
    ones = ops.ones((ops.shape(keys)[-1], 1), dtype="float32")
    return ops.cast(ops.matmul(ops.cast(mask, "float32"), ones), "int32")


def count_distinct(indices):
    """Number of distinct values in each row of an int tensor `(batch, n)`."""
    indices = ops.sort(indices, axis=1)
    changes = ops.not_equal(indices[:, 1:], indices[:, :-1])
    return 1 + ops.sum(ops.cast(changes, "int32"), axis=1)
