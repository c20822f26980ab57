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


def batch_norm_max(bn, z, training, axis=1):
    """`max(bn(z, training=training), axis)` for `z` `(..., channels)`, with
    the statistics and moving-average update of `bn` (a built
    `keras.layers.BatchNormalization` over the last axis), without the
    normalised tensor. Equal to the plain computation in value and
    gradient; any non-decreasing activation may be applied to the result."""
    z32 = ops.cast(z, "float32")
    if training:
        reduce_axes = tuple(range(len(z.shape) - 1))
        mean, variance = ops.moments(z32, axes=reduce_axes)
        update_moving_moments(bn, mean, variance)
    else:
        mean, variance = bn.moving_mean, bn.moving_variance
    scale, shift = scale_and_shift(bn, mean, variance)
    extreme = ops.where(scale >= 0, ops.max(z32, axis=axis), ops.min(z32, axis=axis))
    return ops.cast(extreme * scale + shift, z.dtype)
