import keras
from keras import ops

from keras_ttp.models.task import Task
from keras_ttp.models.task import mlp_head


@keras.saving.register_keras_serializable(package="keras_ttp")
class PointCloudSegmenter(Task):
    """Part segmentation: per-point logits from the concatenation of each
    point's feature, the cloud's global feature and the one-hot object
    category, through a shared MLP head (docs/design.md section 3, ShapeNetPart:
    50 parts in 16 categories, `keras_ttp.evaluation.SHAPENET_PART_CATEGORIES`).

    Args:
        backbone: a `keras_ttp.models.Backbone`.
        num_parts: number of part labels over all categories.
        num_categories: number of object categories.
        hidden_dims: widths of the hidden layers of the per-point head,
            `Dense + BatchNorm + ReLU + Dropout` each.
        dropout: dropout rate after each hidden layer.

    Inputs: a dict `{"points": (batch, num_points, 3) float, "category":
    (batch,) int}`, the category being an index into the categories (the
    order of `SHAPENET_PART_CATEGORIES` for ShapeNetPart). Outputs: logits
    `(batch, num_points, num_parts)`; labels for `fit` are integer part ids
    `(batch, num_points)`. `keras_ttp.evaluation.parts_from_logits` restricts
    predictions to each shape's category.

    Example:
    >>> segmenter = PointCloudSegmenter(DGCNN(), num_parts=50, num_categories=16)
    >>> segmenter.compile()
    >>> segmenter.fit({"points": points, "category": categories}, parts)
    >>> logits = segmenter.predict({"points": points, "category": categories})
    """

    def __init__(
        self,
        backbone,
        num_parts=50,
        num_categories=16,
        hidden_dims=(256, 256, 128),
        dropout=0.5,
        **kwargs,
    ):
        # === Layers ===
        head = mlp_head(hidden_dims, num_parts, dropout, dtype=kwargs.get("dtype"))

        # === Functional model ===
        inputs = {
            "points": keras.Input(shape=(None, 3), name="points"),
            "category": keras.Input(shape=(), dtype="int32", name="category"),
        }
        features = backbone(inputs["points"])
        point_features = features["point_features"]
        category = ops.one_hot(inputs["category"], num_categories)
        # Repeat the per-cloud vectors over the points by broadcasting.
        ones = ops.ones_like(point_features[..., :1])
        x = ops.concatenate(
            [
                point_features,
                ones * features["global_features"][:, None, :],
                ones * category[:, None, :],
            ],
            axis=-1,
        )
        logits = head(x)
        super().__init__(
            inputs=inputs, outputs=logits, backbone=backbone, head=head, **kwargs
        )

        # === Config ===
        self.num_parts = num_parts
        self.num_categories = num_categories
        self.hidden_dims = tuple(hidden_dims)
        self.dropout = dropout

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_parts": self.num_parts,
                "num_categories": self.num_categories,
                "hidden_dims": list(self.hidden_dims),
                "dropout": self.dropout,
            }
        )
        return config
