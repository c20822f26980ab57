import keras
from keras import ops

from keras_ttp import distribution
from keras_ttp.layers.batch_norm import batch_norm
from keras_ttp.ops.batch_norm_max import batch_norm_affine
from keras_ttp.ops.batch_norm_max import row_sum
from keras_ttp.ops.knn import count_neighbors
from keras_ttp.ops.knn import gather_neighbors
from keras_ttp.ops.knn import knn
from keras_ttp.ops.selection import largest_neighbor
from keras_ttp.ops.xla import one_sample_at_a_time_under_xla


@keras.saving.register_keras_serializable(package="keras_ttp")
class EdgeConv(keras.layers.Layer):
    """The edge convolution of DGCNN (Wang et al., 2019).

    For every point `x_i` and each of its `k` nearest neighbours `x_j`
    (found in the space of the layer's input, so the graph is rebuilt at
    every layer), the edge feature `[x_j - x_i, x_i]` goes through a shared
    linear map without bias, BatchNorm and LeakyReLU(0.2); the result is the
    maximum over the neighbours.

    The linear map is applied before the gather: with the kernel split as
    `W = [W_d; W_c]`, `W [x_j - x_i, x_i] = W_d x_j + (W_c - W_d) x_i`, which is
    the same number computed with `k` times fewer multiplications and without
    the `(batch, n, k, 2 * channels)` edge tensor. The kernel keeps the
    `(2 * channels, filters)` layout of the authors' 1x1 convolution.

    With `memory_efficient=True` (the default) no `(batch, n, k, filters)`
    tensor is kept for the backward pass. BatchNorm followed by LeakyReLU is
    a monotonic map per channel (increasing where the BatchNorm scale
    `gamma / sqrt(var + eps)` is positive, decreasing where it is negative),
    so its maximum over the neighbours is its value at the neighbour where
    the pre-BatchNorm edge value is largest (or smallest). The layer finds
    that neighbour per channel without gradient, gathers only it, and takes
    the BatchNorm batch statistics from per-point sums over the neighbours
    (`E[z]`, `E[z^2]`), whose gradients need only the neighbour indices. The
    result and its gradient are those of the plain computation (tested); the
    variables are the same, so weights move freely between the two.

    Args:
        filters: output channels.
        k: number of neighbours (each point counts as its own neighbour).
        negative_slope: slope of the LeakyReLU.
        memory_efficient: use the memory-saving computation described above.

    Example:
    >>> layer = EdgeConv(64, k=20)
    >>> layer(np.random.rand(2, 128, 3).astype("float32")).shape
    (2, 128, 64)
    """

    def __init__(
        self, filters, k=20, negative_slope=0.2, memory_efficient=True, **kwargs
    ):
        super().__init__(**kwargs)
        self.filters = filters
        self.k = k
        self.negative_slope = negative_slope
        self.memory_efficient = memory_efficient
        self.batch_norm = batch_norm("batch_norm", self.dtype_policy)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(2 * channels, self.filters),
            initializer="glorot_uniform",
        )
        self.batch_norm.build(input_shape[:-1] + (self.k, self.filters))

    def call(self, inputs, training=None):
        indices = knn(inputs, self.k)
        neighbor_kernel, center_kernel = self.kernel_parts(self.compute_dtype)
        neighbor_part = ops.matmul(inputs, neighbor_kernel)
        center_part = ops.matmul(inputs, center_kernel)
        if self.memory_efficient:
            edges = self.extreme_edges(
                inputs, neighbor_part, center_part, indices, training
            )
        else:
            edges = gather_neighbors(neighbor_part, indices)
            edges = edges + ops.expand_dims(center_part, 2)
            edges = ops.max(self.batch_norm(edges, training=training), axis=2)
        return ops.leaky_relu(edges, self.negative_slope)

    def kernel_parts(self, dtype):
        """The kernel `[A; B]` as the maps to the edge value's neighbour
        part, `W_d = A`, and centre part, `W_c = B - A`, in `dtype`."""
        kernel = ops.cast(self.kernel, dtype)
        channels = ops.shape(kernel)[0] // 2
        neighbor_kernel = kernel[:channels]
        return neighbor_kernel, kernel[channels:] - neighbor_kernel

    def extreme_edges(self, inputs, neighbor_part, center_part, indices, training):
        """`max_k BatchNorm(z)` for the edge values `z = neighbor_part[j] +
        center_part[i]` (the products of `inputs` and the kernel's halves),
        keeping only `(batch, n, filters)` tensors for the backward pass."""
        scale, shift = batch_norm_affine(
            self.batch_norm,
            training,
            lambda: self.edge_moments(inputs, neighbor_part, center_part, indices),
        )
        # Per channel, the neighbour whose edge value maps to the largest
        # BatchNorm output: the largest `z` where the scale is positive, the
        # smallest where it is negative.
        direction = ops.cast(ops.where(scale >= 0, 1.0, -1.0), neighbor_part.dtype)
        # Under XLA one cloud at a time: for the whole batch, XLA fuses the
        # search into the backward pass's scatter, which runs much slower.
        neighbor = one_sample_at_a_time_under_xla(
            largest_neighbor, ops.stop_gradient(neighbor_part) * direction, indices
        )
        selected = ops.take_along_axis(neighbor_part, neighbor, axis=1) + center_part
        selected = ops.cast(selected, "float32") * scale + shift
        return ops.cast(selected, self.compute_dtype)

    def edge_moments(self, inputs, neighbor_part, center_part, indices):
        """Batch mean and (biased) variance of the edge values `z_ij =
        neighbor_part[j] + center_part[i]` over batch, points and neighbours.

        With `d_j` the number of points having `j` as a neighbour, `sum z =
        sum_j d_j neighbor_part[j] + k sum_i center_part[i]` and `sum z^2 =
        sum_j d_j neighbor_part[j]^2 + k sum_i center_part[i]^2 + 2 sum_i
        center_part[i] s_i`, with `s_i` the sum of `neighbor_part[j]` over
        the neighbours of `i`. The last term is `diag(W_c^T (X^T S) W_d)`,
        `X` the inputs, `S` their sums over each point's neighbours and
        `W_d`, `W_c` the maps to `neighbor_part` and `center_part`: the
        neighbour sums, and the scatter of their gradient in the backward
        pass, run over the input channels rather than the filters (3, 64,
        64, 128 rather than 64, 64, 128, 256 in DGCNN). No `(batch, n, k,
        channels)` tensor but the one the gather needs."""
        x = ops.cast(inputs, "float32")
        channels = ops.shape(x)[-1]
        neighbor_kernel, center_kernel = self.kernel_parts("float32")
        neighbor_sums = ops.sum(gather_neighbors(x, indices), axis=2)
        # sum_i x_i^T S_i, (channels, channels)
        products = ops.matmul(
            ops.transpose(ops.reshape(x, (-1, channels))),
            ops.reshape(neighbor_sums, (-1, channels)),
        )
        cross = ops.sum(center_kernel * ops.matmul(products, neighbor_kernel), axis=0)
        filters = ops.shape(neighbor_part)[-1]
        neighbor_part = ops.reshape(ops.cast(neighbor_part, "float32"), (-1, filters))
        center_part = ops.reshape(ops.cast(center_part, "float32"), (-1, filters))
        in_degree = ops.reshape(count_neighbors(indices, ops.shape(x)[1]), (-1,))
        k = self.k
        count = ops.cast(ops.shape(neighbor_part)[0] * k, "float32")
        total = row_sum(neighbor_part, in_degree) + k * row_sum(center_part)
        total_square = (
            row_sum(ops.square(neighbor_part), in_degree)
            + k * row_sum(ops.square(center_part))
            + 2 * cross
        )
        if getattr(self.batch_norm, "synchronized", False):
            # Over every replica's edges (tensorflow strategies).
            total, total_square, count = distribution.replica_sum(
                total, total_square, count
            )
        mean = total / count
        return mean, ops.maximum(total_square / count - ops.square(mean), 0.0)

    def compute_output_shape(self, input_shape):
        return input_shape[:-1] + (self.filters,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "k": self.k,
                "negative_slope": self.negative_slope,
                "memory_efficient": self.memory_efficient,
            }
        )
        return config
