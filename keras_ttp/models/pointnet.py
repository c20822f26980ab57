import keras

from keras_ttp.layers.batch_norm import batch_norm
from keras_ttp.layers.pooling_stage import PoolingStage
from keras_ttp.layers.transform_net import TransformNet
from keras_ttp.models.backbone import Backbone


@keras.saving.register_keras_serializable(package="keras_ttp")
class PointNet(Backbone):
    """The PointNet encoder (Qi et al., 2017) as used by ToThePoint.

    Input T-Net (3x3), shared MLP 64 with BatchNorm + ReLU, feature T-Net
    (64x64), shared MLP 128 with BatchNorm + ReLU, then `embedding_dim` with
    BatchNorm and no ReLU; the global feature is the max over points.

    Args:
        embedding_dim: width of the per-point and global features.
        input_transform: use the input T-Net.
        feature_transform: use the feature T-Net.
        feature_transform_regularization: weight of the orthogonality
            regulariser of the feature transform, added with `add_loss`
            (PointNet uses 0.001 for classification; the ToThePoint authors
            leave it out of pre-training, hence 0).

    Example:
    >>> backbone = PointNet()
    >>> outputs = backbone(np.random.rand(2, 1024, 3).astype("float32"))
    >>> outputs["global_features"].shape
    (2, 1024)
    """

    recycled_stop_gradient = True

    def __init__(
        self,
        embedding_dim=1024,
        input_transform=True,
        feature_transform=True,
        feature_transform_regularization=0.0,
        **kwargs,
    ):
        # === Functional model ===
        dtype = kwargs.get("dtype")
        inputs = keras.Input(shape=(None, 3), name="points")
        x = inputs
        if input_transform:
            x, _ = TransformNet(3, name="input_transform", dtype=dtype)(x)
        x = keras.layers.Dense(64, name="conv1", dtype=dtype)(x)
        x = batch_norm("conv1_bn", dtype)(x)
        x = keras.layers.ReLU(name="conv1_relu", dtype=dtype)(x)
        if feature_transform:
            x, _ = TransformNet(
                64,
                regularization=feature_transform_regularization,
                name="feature_transform",
                dtype=dtype,
            )(x)
        x = keras.layers.Dense(128, name="conv2", dtype=dtype)(x)
        x = batch_norm("conv2_bn", dtype)(x)
        x = keras.layers.ReLU(name="conv2_relu", dtype=dtype)(x)
        stage = PoolingStage(embedding_dim, name="conv3", dtype=dtype)
        super().__init__(inputs, x, stage, **kwargs)

        # === Config ===
        self.embedding_dim = embedding_dim
        self.input_transform = input_transform
        self.feature_transform = feature_transform
        self.feature_transform_regularization = feature_transform_regularization

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "embedding_dim": self.embedding_dim,
                "input_transform": self.input_transform,
                "feature_transform": self.feature_transform,
                "feature_transform_regularization": (
                    self.feature_transform_regularization
                ),
            }
        )
        return config
