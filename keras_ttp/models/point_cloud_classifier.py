import keras

from keras_ttp.models.task import Task
from keras_ttp.models.task import mlp_head


@keras.saving.register_keras_serializable(package="keras_ttp")
class PointCloudClassifier(Task):
    """Shape classification: a backbone's global feature through an MLP head
    to class logits (the fine-tuning protocol, docs/design.md section 3).

    The head is `Dense + BatchNorm + ReLU + Dropout` per hidden width, as in
    the PointNet and DGCNN classification heads, then a `Dense` to
    `num_classes` logits.

    Args:
        backbone: a `keras_ttp.models.Backbone`.
        num_classes: number of classes.
        hidden_dims: widths of the hidden layers of the head.
        dropout: dropout rate after each hidden layer.

    Inputs: point clouds `(batch, num_points, 3)`. Outputs: logits
    `(batch, num_classes)`; labels for `fit` are integers `(batch,)`.

    Example:
    >>> classifier = PointCloudClassifier(PointNet(), num_classes=10)
    >>> classifier.compile()  # Adam(1e-3), sparse cross-entropy, accuracy
    >>> classifier.fit(points, labels, epochs=1, batch_size=32)
    >>> classifier = PointCloudClassifier.from_preset(
    ...     "ttp_shapenet_pointnet", num_classes=10
    ... )
    """

    def __init__(
        self, backbone, num_classes, hidden_dims=(512, 256), dropout=0.5, **kwargs
    ):
        # === Layers ===
        head = mlp_head(hidden_dims, num_classes, dropout, dtype=kwargs.get("dtype"))

        # === Functional model ===
        points = keras.Input(shape=(None, 3), name="points")
        logits = head(backbone(points)["global_features"])
        super().__init__(
            inputs=points, outputs=logits, backbone=backbone, head=head, **kwargs
        )

        # === Config ===
        self.num_classes = num_classes
        self.hidden_dims = tuple(hidden_dims)
        self.dropout = dropout

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "hidden_dims": list(self.hidden_dims),
                "dropout": self.dropout,
            }
        )
        return config
