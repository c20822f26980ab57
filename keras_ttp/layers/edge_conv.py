import keras
from keras import ops

from keras_ttp.layers.knn import gather_neighbors
from keras_ttp.layers.knn import knn


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

    Args:
        filters: output channels.
        k: number of neighbours (each point counts as its own neighbour).
        negative_slope: slope of the LeakyReLU.

    Example:
    >>> layer = EdgeConv(64, k=20)
    >>> layer(np.random.rand(2, 128, 3).astype("float32")).shape
    (2, 128, 64)
    """

    def __init__(self, filters, k=20, negative_slope=0.2, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.k = k
        self.negative_slope = negative_slope
        self.batch_norm = keras.layers.BatchNormalization(
            momentum=0.9, epsilon=1e-5, dtype=self.dtype_policy, name="batch_norm"
        )

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
        channels = ops.shape(inputs)[-1]
        kernel = ops.cast(self.kernel, self.compute_dtype)
        neighbor_kernel = kernel[:channels]
        center_kernel = kernel[channels:] - neighbor_kernel
        neighbor_part = gather_neighbors(
            ops.matmul(inputs, neighbor_kernel), indices
        )
        center_part = ops.expand_dims(ops.matmul(inputs, center_kernel), 2)
        edges = self.batch_norm(neighbor_part + center_part, training=training)
        edges = ops.leaky_relu(edges, self.negative_slope)
        return ops.max(edges, axis=2)

    def compute_output_shape(self, input_shape):
        return input_shape[:-1] + (self.filters,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "k": self.k,
                "negative_slope": self.negative_slope,
            }
        )
        return config
