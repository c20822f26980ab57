"""The maximum over points of a BatchNorm output without computing it at
every point (shared by `EdgeConv` and `TransformNet`).

BatchNorm is `scale * z + shift` per channel with `scale = gamma /
sqrt(variance + eps)`: increasing where `scale >= 0`, decreasing where it
is negative. Followed by a non-decreasing activation (ReLU, LeakyReLU) its
maximum over points is its value at the point where `z` is largest (or, for
a negative scale, smallest). So only the batch moments of `z` and one value
per sample and channel are needed, in the forward and the backward pass.
"""

from keras import ops

from keras_ttp.layers.knn import gather_neighbors


def update_moving_moments(bn, mean, variance):
    """The moving-statistics update of the `BatchNormalization` layer `bn`
    in training, from this batch's `mean` and (biased) `variance`."""
    for moving, value in ((bn.moving_mean, mean), (bn.moving_variance, variance)):
        moving.assign(
            moving * bn.momentum + ops.cast(value, moving.dtype) * (1 - bn.momentum)
        )


def scale_and_shift(bn, mean, variance):
    """`(scale, shift)` in float32 such that `bn(z) = scale * z + shift`."""
    scale = ops.cast(bn.gamma, "float32") / ops.sqrt(
        ops.cast(variance, "float32") + bn.epsilon
    )
    return scale, ops.cast(bn.beta, "float32") - ops.cast(mean, "float32") * scale


def dense_batch_norm_max(dense, bn, x, training):
    """`max(bn(dense(x), training=training), axis=1)` for `x` `(batch,
    points, in_channels)`, where `dense` is a built `keras.layers.Dense`
    without activation: equal to the plain computation in value and
    gradient, with the statistics and moving-average update of `bn`.

    The `(batch, points, units)` product `z = x W + b` is computed once,
    without gradient, only to find each channel's extreme point. Its batch
    moments come from those of `x`: `mean(z) = mean(x) W + b` and `var(z) =
    diag(W^T cov(x) W)`, with `cov(x)` a `(in_channels, in_channels)` matrix;
    the extreme values are recomputed from the selected rows of `x`. The
    backward pass then never touches a `(batch, points, units)` tensor: on
    PointNet's T-Nets (128 -> 1024) this replaces the two large products of
    the plain backward pass with two 8x smaller ones.
    """
    x32 = ops.cast(x, "float32")
    kernel = ops.cast(dense.kernel, "float32")
    bias = ops.cast(dense.bias, "float32") if dense.use_bias else 0.0
    if training:
        flat = ops.reshape(x32, (-1, ops.shape(x32)[-1]))
        mean_x = ops.mean(flat, axis=0)
        centered = flat - mean_x
        covariance = ops.matmul(ops.transpose(centered), centered) / ops.cast(
            ops.shape(flat)[0], "float32"
        )
        mean = ops.matmul(mean_x, kernel) + bias
        variance = ops.sum(kernel * ops.matmul(covariance, kernel), axis=0)
        update_moving_moments(bn, mean, variance)
    else:
        mean, variance = bn.moving_mean, bn.moving_variance
    scale, shift = scale_and_shift(bn, mean, variance)
    # The bias does not move a channel's extreme point.
    z = ops.matmul(
        ops.stop_gradient(ops.convert_to_tensor(x)), ops.stop_gradient(dense.kernel)
    )
    direction = ops.cast(ops.where(scale >= 0, 1.0, -1.0), z.dtype)
    extreme = ops.argmax(z * direction, axis=1)  # (batch, units)
    rows = gather_neighbors(x32, ops.expand_dims(ops.cast(extreme, "int32"), -1))
    selected = ops.sum(rows[:, :, 0, :] * ops.transpose(kernel), axis=-1) + bias
    return ops.cast(selected * scale + shift, dense.compute_dtype)
