import keras
from keras import ops

from keras_ttp.layers.batch_norm import batch_norm
from keras_ttp.ops.batch_norm_max import dense_batch_norm_max


@keras.saving.register_keras_serializable(package="keras_ttp")
class TransformNet(keras.layers.Layer):
    """PointNet's T-Net: predicts a `(size, size)` transform and applies it.

    A shared MLP (64, 128, 1024) with BatchNorm and ReLU, max pooling over
    points, then dense layers (512, 256) and a final dense layer initialised
    to zero and added to the identity, so the layer starts as the identity
    map. The transform is applied as `x @ A`.

    Args:
        size: the transform's size (3 for coordinates, 64 for features).
        regularization: weight of the orthogonality regulariser
            `mean_b ||I - A_b A_b^T||_F^2`, added with `add_loss` when
            positive (PointNet uses 0.001 on the feature transform).

    Call returns `(transformed, transform)`.

    Example:
    >>> tnet = TransformNet(3)
    >>> points, transform = tnet(np.random.rand(2, 32, 3).astype("float32"))
    >>> transform.shape
    (2, 3, 3)
    """

    def __init__(self, size, regularization=0.0, **kwargs):
        super().__init__(**kwargs)
        self.size = size
        self.regularization = regularization
        self.point_layers = []
        for i, units in enumerate((64, 128, 1024)):
            self.point_layers += [
                keras.layers.Dense(units, name=f"conv{i + 1}", dtype=self.dtype_policy),
                batch_norm(f"conv{i + 1}_bn", self.dtype_policy),
                keras.layers.ReLU(dtype=self.dtype_policy),
            ]
        self.global_layers = []
        for i, units in enumerate((512, 256)):
            self.global_layers += [
                keras.layers.Dense(units, name=f"fc{i + 1}", dtype=self.dtype_policy),
                batch_norm(f"fc{i + 1}_bn", self.dtype_policy),
                keras.layers.ReLU(dtype=self.dtype_policy),
            ]
        self.transform_layer = keras.layers.Dense(
            size * size,
            kernel_initializer="zeros",
            bias_initializer="zeros",
            name="transform",
            dtype=self.dtype_policy,
        )

    def build(self, input_shape):
        if input_shape[-1] != self.size:
            raise ValueError(
                f"TransformNet(size={self.size}) expects inputs with "
                f"{self.size} channels, got shape {input_shape}."
            )
        shape = input_shape
        for layer in self.point_layers:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        shape = (input_shape[0], shape[-1])
        for layer in self.global_layers:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.transform_layer.build(shape)

    def call(self, inputs, training=None):
        # `training` reaches the sublayers' BatchNormalization through
        # Keras's call context; `batch_norm_max` takes it explicitly.
        x = inputs
        for layer in self.point_layers[:-3]:
            x = layer(x)
        # The last point layer, its BatchNorm, ReLU and the max over points,
        # without a (batch, points, 1024) tensor in the backward pass
        # (dense_batch_norm_max: same value and gradient).
        dense, bn, _ = self.point_layers[-3:]
        x = ops.relu(dense_batch_norm_max(dense, bn, x, training))
        for layer in self.global_layers:
            x = layer(x)
        transform = ops.reshape(self.transform_layer(x), (-1, self.size, self.size))
        transform = transform + ops.eye(self.size, dtype=transform.dtype)
        if self.regularization > 0:
            self.add_loss(self.regularization * orthogonality_loss(transform))
        return ops.matmul(inputs, transform), transform

    def compute_output_shape(self, input_shape):
        return input_shape, (input_shape[0], self.size, self.size)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "regularization": self.regularization})
        return config


def orthogonality_loss(transform):
    """`mean_b ||I - A_b A_b^T||_F^2` for transforms `(batch, size, size)`."""
    transform = ops.cast(transform, "float32")
    size = ops.shape(transform)[-1]
    product = ops.matmul(transform, ops.transpose(transform, (0, 2, 1)))
    residual = ops.eye(size, dtype="float32") - product
    return ops.mean(ops.sum(ops.square(residual), axis=(1, 2)))
