import keras
from keras import ops

from keras_ttp.layers.batch_norm import batch_norm
from keras_ttp.ops.batch_norm_max import dense_batch_norm_max
from keras_ttp.ops.batch_norm_max import dense_batch_norm_rows
from keras_ttp.ops.selection import last_axis_argmax
from keras_ttp.ops.selection import last_axis_kth_largest_index


@keras.saving.register_keras_serializable(package="keras_ttp")
class PoolingStage(keras.layers.Layer):
    """A backbone's last point-wise stage and its max pooling: a shared
    `Dense` without activation, BatchNorm, an optional LeakyReLU, then the
    maximum over points; on request also ToThePoint's recycled feature.

    The stage runs two ways, with the same variables:
    - `backbone_outputs(x)`, called on the backbone's symbolic tensor when
      it builds its functional graph: the per-point features and their
      maximum, `{"point_features", "global_features"}`, by the plain layers
      (which become nodes of that graph).
    - `stage(x, training=..., rank=None)`: `(maximum, recycled)`, each
      `(batch, units)`, where `recycled` holds, for every channel, the
      `(rank + 1)`-th largest per-point feature (row `rank` of the features
      sorted in descending order over the points; None without `rank`).
      Same values and gradients as computing the per-point features and
      selecting from them, and the same BatchNorm statistics and update;
      but only the picked points are recomputed, so the backward pass never
      holds a `(batch, points, units)` tensor (`dense_batch_norm_rows`).
      ToThePoint pre-trains through this call.

    Args:
        units: the width of the per-point and global features.
        use_bias: whether the `Dense` has a bias.
        negative_slope: the LeakyReLU after the BatchNorm; None for none.
        name: the stage's sub-layers are named `name`, `name_bn`,
            `name_relu` and `max_pool`; the stage `name_stage`.

    Call arguments:
        inputs: the stage's input `(batch, points, channels)`.
        training: BatchNorm's mode.
        rank: None, or the int recycled rank `r`: a scalar, or one per
            sample `(batch,)`, each in `[1, points - 1]`.

    Example:
    >>> stage = PoolingStage(64, name="conv3")
    >>> x = np.random.rand(2, 128, 16).astype("float32")
    >>> maximum, recycled = stage(x, rank=5)
    >>> maximum.shape, recycled.shape
    ((2, 64), (2, 64))
    """

    def __init__(self, units, use_bias=True, negative_slope=None, name="pooling", **kwargs):
        super().__init__(name=f"{name}_stage", **kwargs)
        self.units = units
        self.use_bias = use_bias
        self.negative_slope = negative_slope
        self.prefix = name
        self.dense = keras.layers.Dense(
            units, use_bias=use_bias, name=name, dtype=self.dtype_policy
        )
        self.batch_norm = batch_norm(f"{name}_bn", self.dtype_policy)
        self.activation = None
        if negative_slope is not None:
            self.activation = keras.layers.LeakyReLU(
                negative_slope, name=f"{name}_relu", dtype=self.dtype_policy
            )
        self.max_pool = keras.layers.GlobalMaxPooling1D(
            name="max_pool", dtype=self.dtype_policy
        )

    def build(self, input_shape):
        if not self.dense.built:
            self.dense.build(input_shape)
        if not self.batch_norm.built:
            self.batch_norm.build(tuple(input_shape[:-1]) + (self.units,))
        self.built = True

    def point_features(self, inputs, training=None):
        """The per-point features `(batch, points, units)`, by the plain
        layers."""
        return self.activate(self.batch_norm(self.dense(inputs), training=training))

    def backbone_outputs(self, inputs):
        """The backbone's outputs on its symbolic stage input: the per-point
        features and their maximum over the points."""
        point_features = self.point_features(inputs)
        self.build(inputs.shape)
        return {
            "point_features": point_features,
            "global_features": self.max_pool(point_features),
        }

    def call(self, inputs, training=None, rank=None):
        if rank is None:
            maximum = dense_batch_norm_max(self.dense, self.batch_norm, inputs, training)
            return self.activate(maximum), None
        batch_size = ops.shape(inputs)[0]
        ranks = ops.broadcast_to(ops.cast(rank, "int32"), (batch_size,))

        def select(oriented, rank):
            first = last_axis_argmax(oriented)
            recycled = ops.cast(last_axis_kth_largest_index(oriented, rank), "int32")
            return ops.stack([first, recycled], axis=-1)

        values = dense_batch_norm_rows(
            self.dense, self.batch_norm, inputs, training, select, (ranks,)
        )
        values = self.activate(values)
        return values[..., 0], values[..., 1]

    def activate(self, x):
        return x if self.activation is None else self.activation(x)

    def compute_output_spec(self, inputs, training=None, rank=None):
        feature = keras.KerasTensor(
            (inputs.shape[0], self.units), dtype=self.compute_dtype
        )
        return feature, (None if rank is None else feature)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "use_bias": self.use_bias,
                "negative_slope": self.negative_slope,
                "name": self.prefix,
            }
        )
        return config
