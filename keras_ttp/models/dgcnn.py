import keras

from keras_ttp.layers.edge_conv import EdgeConv
from keras_ttp.layers.pooling_stage import PoolingStage
from keras_ttp.models.backbone import Backbone


@keras.saving.register_keras_serializable(package="keras_ttp")
class DGCNN(Backbone):
    """The Dynamic Graph CNN encoder (Wang et al., 2019) as used by ToThePoint.

    Four `EdgeConv` layers (widths 64, 64, 128, 256 by default), each
    rebuilding the k-nearest-neighbour graph in the space of its input; their
    outputs are concatenated (512 channels) and mapped by a shared linear
    layer to `embedding_dim` with BatchNorm and LeakyReLU(0.2); the global
    feature is the max over points.

    Args:
        k: neighbours per point (each point counts as its own neighbour).
            Clouds need at least `k` points.
        edge_filters: widths of the EdgeConv layers.
        embedding_dim: width of the per-point and global features.
        memory_efficient: EdgeConv's memory-saving computation (same
            results; see `keras_ttp.layers.EdgeConv`).

    Example:
    >>> backbone = DGCNN(k=20)
    >>> outputs = backbone(np.random.rand(2, 256, 3).astype("float32"))
    >>> outputs["point_features"].shape
    (2, 256, 1024)
    """

    def __init__(
        self,
        k=20,
        edge_filters=(64, 64, 128, 256),
        embedding_dim=1024,
        memory_efficient=True,
        **kwargs,
    ):
        # === Functional model ===
        dtype = kwargs.get("dtype")
        inputs = keras.Input(shape=(None, 3), name="points")
        x = inputs
        edge_features = []
        for i, filters in enumerate(edge_filters):
            x = EdgeConv(
                filters,
                k=k,
                memory_efficient=memory_efficient,
                name=f"edge_conv{i + 1}",
                dtype=dtype,
            )(x)
            edge_features.append(x)
        x = keras.layers.Concatenate(name="concat", dtype=dtype)(edge_features)
        stage = PoolingStage(
            embedding_dim, use_bias=False, negative_slope=0.2, name="conv5", dtype=dtype
        )
        super().__init__(inputs, x, stage, **kwargs)

        # === Config ===
        self.k = k
        self.edge_filters = tuple(edge_filters)
        self.embedding_dim = embedding_dim
        self.memory_efficient = memory_efficient
        self.min_points = k

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "k": self.k,
                "edge_filters": list(self.edge_filters),
                "embedding_dim": self.embedding_dim,
                "memory_efficient": self.memory_efficient,
            }
        )
        return config
