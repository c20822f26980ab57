"""The maximum (or another order statistic) over points of a BatchNorm
output without computing it at every point (shared by `EdgeConv`,
`TransformNet` and `PoolingStage`).

BatchNorm is `scale * z + shift` per channel with `scale = gamma /
sqrt(variance + eps)`: increasing where `scale >= 0`, decreasing where it
is negative. Followed by a non-decreasing activation (ReLU, LeakyReLU) its
maximum over points is its value at the point where `z` is largest (or, for
a negative scale, smallest), and likewise for the `j`-th largest value. So
only the batch moments of `z` and a few values per sample and channel are
needed, in the forward and the backward pass.

`batch_norm_affine` is the common outline; what differs between callers is
how the batch moments of `z` are found (`moments`), and which points are
picked.
"""

from keras import ops

from keras_ttp import distribution
from keras_ttp.ops.selection import flat_indices
from keras_ttp.ops.selection import last_axis_argmax
from keras_ttp.ops.xla import one_sample_at_a_time_under_xla


def uses_batch_statistics(bn, training):
    """Whether `bn` normalises with this batch's statistics (and updates its
    moving ones): in training, unless frozen, as Keras's BatchNormalization
    decides for itself."""
    return training and bn.trainable


def update_moving_moments(bn, mean, variance):
    """The moving-statistics update of the `BatchNormalization` layer `bn`
    in training, from this batch's `mean` and (biased) `variance`."""
    for moving, value in ((bn.moving_mean, mean), (bn.moving_variance, variance)):
        moving.assign(
            moving * bn.momentum + ops.cast(value, moving.dtype) * (1 - bn.momentum)
        )


def batch_norm_affine(bn, training, moments):
    """`(scale, shift)` in float32 such that `bn(z, training=training) =
    scale * z + shift` per channel, with the moving-statistics update of
    `bn` when it uses this batch's statistics. `moments()` returns the
    batch mean and (biased) variance of `z`; it is called only then."""
    if uses_batch_statistics(bn, training):
        mean, variance = moments()
        update_moving_moments(bn, mean, variance)
    else:
        mean, variance = bn.moving_mean, bn.moving_variance
    return scale_and_shift(bn, mean, variance)


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
    gradient, with the statistics and moving-average update of `bn`
    (`dense_batch_norm_rows` picking each channel's largest point).
    """
    picks = dense_batch_norm_rows(
        dense, bn, x, training, lambda oriented: last_axis_argmax(oriented)[..., None]
    )
    return picks[..., 0]


def dense_batch_norm_rows(dense, bn, x, training, select, select_args=()):
    """`bn(dense(x), training=training)` at a few points per sample and
    channel, for `x` `(batch, points, in_channels)`, where `dense` is a built
    `keras.layers.Dense` without activation: equal to the plain computation
    in value and gradient, with the statistics and moving-average update of
    `bn`.

    `select(oriented, *select_args)` maps the oriented products, channels
    first `(batch, units, points)`: `z = x W` times the sign of each
    channel's BatchNorm scale (so a larger oriented value means a larger
    output), to point indices `(batch, units, picks)`; the result is the
    BatchNorm output at those points, `(batch, units, picks)`. The
    orientation makes order statistics carry over: the point with the
    `j`-th largest oriented value has the `j`-th largest output.
    `select_args` are tensors with a leading batch axis, sliced alongside.

    The product is computed once, without gradient, only for `select`. Its
    batch moments come from those of `x`: `mean(z) = mean(x) W + b` and
    `var(z) = diag(W^T cov(x) W)`, with `cov(x)` a `(in_channels,
    in_channels)` matrix; the picked values are recomputed from the picked
    rows of `x`. The backward pass then never touches a `(batch, points,
    units)` tensor: on PointNet's T-Nets (128 -> 1024) this replaces the two
    large products of the plain backward pass with two 8x smaller ones.

    Under XLA the product and `select` run one sample at a time
    (`ops.map`, `select` sees a batch of 1): computed as `W^T x^T`, the
    channels-first products need no transpose of a `(points, units)`
    tensor, and a sample's products stay in the CPU's cache for `select`'s
    passes over them.
    """
    x32 = ops.cast(x, "float32")
    kernel = ops.cast(dense.kernel, "float32")
    bias = ops.cast(dense.bias, "float32") if dense.use_bias else 0.0

    def moments():
        flat = ops.reshape(x32, (-1, ops.shape(x32)[-1]))
        count = ops.cast(ops.shape(flat)[0], "float32")
        if getattr(bn, "synchronized", False):
            mean_x, covariance = synchronized_moments(flat, count)
        else:
            mean_x = row_sum(flat) / count
            covariance = row_covariance(flat - mean_x)
        mean = ops.matmul(mean_x, kernel) + bias
        return mean, ops.sum(kernel * ops.matmul(covariance, kernel), axis=0)

    scale, shift = batch_norm_affine(bn, training, moments)
    # With the bias folded into the shift, the picked rows need no bias.
    shift = shift + bias * scale
    # The bias does not move a channel's order statistics.
    kernel_t = ops.transpose(ops.stop_gradient(dense.kernel))
    direction = ops.where(scale >= 0, 1.0, -1.0)[:, None]

    def pick(x_part, *args):
        z = ops.matmul(kernel_t, ops.transpose(x_part, (0, 2, 1)))
        return ops.cast(select(z * ops.cast(direction, z.dtype), *args), "int32")

    x_stopped = ops.stop_gradient(ops.convert_to_tensor(x))
    # (batch, units, picks)
    picked = one_sample_at_a_time_under_xla(pick, x_stopped, *select_args)
    batch_size, units, picks = ops.shape(picked)
    # The picked rows of `x` grouped by unit, `(units, batch * picks,
    # in_channels)`, each unit's values one mat-vec with its column of the
    # kernel: the kernel's gradient is then a product too, where it was a
    # sum over the batch and picks that XLA runs as a slow windowed
    # reduction.
    flat_picked = flat_indices(picked, ops.shape(x32)[1])
    by_unit = ops.reshape(
        ops.transpose(ops.reshape(flat_picked, (batch_size, units, picks)), (1, 0, 2)),
        (-1,),
    )
    rows = ops.take(ops.reshape(x32, (-1, ops.shape(x32)[-1])), by_unit, axis=0)
    rows = ops.reshape(rows, (units, batch_size * picks, ops.shape(x32)[-1]))
    values = ops.matmul(rows, ops.transpose(kernel)[:, :, None])
    values = ops.transpose(ops.reshape(values, (units, batch_size, picks)), (1, 0, 2))
    values = values * scale[:, None] + shift[:, None]
    return ops.cast(values, dense.compute_dtype)


def synchronized_moments(flat, count):
    """The mean and covariance of the rows of `flat` over every replica of a
    tf.distribute strategy (two all-reduces, as `bn.synchronized` asks);
    this replica's own elsewhere."""
    total, global_count = distribution.replica_sum(row_sum(flat), count)
    mean = total / global_count
    (scatter,) = distribution.replica_sum(row_covariance(flat - mean) * count)
    return mean, scatter / global_count


def row_sum(matrix, weights=None):
    """The sum of the rows of `matrix` `(rows, columns)`, each times its
    weight in `weights` `(rows,)` if given, as one mat-vec: XLA on CPUs
    runs a sum over the rows as a slow windowed reduction."""
    if weights is None:
        weights = ops.ones(ops.shape(matrix)[:1], matrix.dtype)
    return ops.matmul(weights[None, :], matrix)[0]


def row_covariance(centered):
    """`centered^T centered / n` for the rows of `centered` `(n, channels)`,
    whose backward pass is one product, `centered (G + G^T) / n`, where
    autodiff of the plain expression computes two (one per operand).

    `half` multiplies `centered` by a copy without gradient; its value is
    the covariance, which is symmetric. `half + half^T` minus `half`
    without gradient has that value, and gives `half` the gradient `G +
    G^T`, which `half` passes to its first operand alone: the gradient of
    the plain expression. On DGCNN's
    last layer (512 channels, 65,536 rows per view) that is one product of
    34 GFLOP per view fewer in the backward pass.
    """
    count = ops.cast(ops.shape(centered)[0], centered.dtype)
    half = ops.matmul(ops.transpose(centered), ops.stop_gradient(centered)) / count
    return half + ops.transpose(half) - ops.stop_gradient(half)
