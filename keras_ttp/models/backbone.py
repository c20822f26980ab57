import keras

from keras_ttp.models.checks import ChecksInputPoints
from keras_ttp.models.checks import check_input_points
from keras_ttp.presets import preset_utils
from keras_ttp.presets import registry
from keras_ttp.presets.preset_loader import PresetLoader
from keras_ttp.utils.arguments import check_keyword_arguments


@keras.saving.register_keras_serializable(package="keras_ttp")
class Backbone(ChecksInputPoints, keras.Model):
    """Base class of the point-cloud backbones.

    A backbone is a functional model from point clouds `(batch, num_points,
    3)`, any number of points, to a dict with the per-point features
    `"point_features"` `(batch, num_points, dim)` and the max-pooled global
    feature `"global_features"` `(batch, dim)`. Subclasses build their layers
    and functional graph in `__init__`, ending in a `PoolingStage` (the last
    Dense, BatchNorm, activation and max pooling): they pass the clouds'
    input, the stage's input tensor and the stage to `Backbone.__init__`,
    and list their constructor arguments in `get_config`. `pool` gives the
    global and recycled features through the stage, for ToThePoint.

    Calling a backbone on a tensor whose shape is wrong raises a `ValueError`
    that says what was expected; numpy clouds given to `__call__`, `fit`,
    `predict` or `evaluate` are also checked for an empty batch and NaN or
    infinite coordinates. Unknown constructor arguments raise a `TypeError`;
    `dtype` takes a Keras dtype policy (e.g. `"mixed_bfloat16"`).

    Presets: `from_preset` loads a saved backbone from a registered name
    (`Backbone.presets`), a local folder or an `hf://owner/name` handle;
    `save_to_preset` writes one.

    Example:
    >>> backbone = PointNet(embedding_dim=256)
    >>> backbone.save_to_preset("my_pointnet", model_card={"data": "ShapeNet"})
    >>> restored = PointNet.from_preset("my_pointnet")
    """

    # Fewest points a subclass can handle (DGCNN needs at least k).
    min_points = 1
    # Whether ToThePoint stops the gradient through the recycled feature by
    # default for this backbone (the authors' choice per backbone).
    recycled_stop_gradient = False

    def __init__(self, inputs, stage_inputs, pooling_stage, **kwargs):
        check_keyword_arguments(type(self), kwargs)
        super().__init__(
            inputs=inputs, outputs=pooling_stage.backbone_outputs(stage_inputs), **kwargs
        )
        if kwargs.get("dtype") is not None:  # Keras's functional models drop it
            self.dtype_policy = kwargs["dtype"]
        # The stage and the trunk reuse the graph's own layers. Held by a
        # plain object, which Keras's saving does not walk: the weights
        # file names each variable once, by the graph's layers, as before
        # the stage existed.
        self._pooling = PoolingPath(
            keras.Model(inputs, stage_inputs, name=f"{self.name}_trunk"), pooling_stage
        )

    def __call__(self, inputs, *args, **kwargs):
        self.check_points_shape(getattr(inputs, "shape", None))
        check_input_points(inputs, self)
        return super().__call__(inputs, *args, **kwargs)

    def check_points_shape(self, shape):
        if shape is None:
            return
        shape = tuple(shape)
        if len(shape) != 3 or shape[-1] != 3:
            raise ValueError(
                f"{self.__class__.__name__} expects point clouds of shape "
                f"(batch, num_points, 3), got shape {shape}. A single cloud "
                "needs a batch axis: use `points[None]`."
            )
        num_points = shape[1]
        if num_points is not None and num_points < self.min_points:
            raise ValueError(
                f"{self.__class__.__name__} needs at least {self.min_points} "
                f"points per cloud, got shape {shape}."
            )

    def pool(self, points, training=False, rank=None):
        """The global feature of `points` and, given a rank, the recycled
        one: `(global_features, recycled_features)`, each `(batch, dim)`;
        recycled None without `rank`.

        The recycled feature holds, for every channel, the `(rank + 1)`-th
        largest per-point feature. Same values and gradients as taking
        them from `self(points)["point_features"]`, computed by the
        backbone's `PoolingStage` without the per-point features in the
        backward pass. `rank` is a scalar, or one per sample `(batch,)`, in
        `[1, num_points - 1]`.
        """
        self.check_points_shape(points.shape)
        features = self._pooling.trunk(points, training=training)
        return self._pooling.stage(features, training=training, rank=rank)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @preset_utils.classproperty
    def presets(cls):
        """The registered presets of this class, `{name: entry}`."""
        return registry.list_presets(None if cls is Backbone else cls.__name__)

    @classmethod
    def from_preset(cls, preset, load_weights=True, verify_hashes=True, **kwargs):
        """Builds a backbone from a preset (see `PresetLoader`).

        Args:
            preset: a registered name (on a subclass, the short name works:
                `DGCNN.from_preset("ttp_shapenet")`), a preset folder, or
                `"hf://owner/name[@revision]"`.
            load_weights: load the saved weights; `False` gives the same
                architecture freshly initialised.
            verify_hashes: check the weights file against the sha256 that
                `metadata.json` records; `False` for hand-edited weights.
            **kwargs: constructor arguments that replace the saved ones.

        Raises:
            ValueError: unknown name; a preset of another backbone class; a
                missing or corrupted file, a class that is not a keras_ttp
                backbone, weights that do not match their recorded sha256 or
                the configuration (the message names the file).
            FileNotFoundError: a registered or `hf://` preset that is neither
                shipped nor downloadable (nor in the Hugging Face cache).

        Example:
        >>> backbone = keras_ttp.models.DGCNN.from_preset("ttp_shapenet")
        >>> backbone = keras_ttp.models.Backbone.from_preset("hf://me/my_dgcnn")
        """
        loader = PresetLoader(preset, cls, verify_hashes=verify_hashes)
        return loader.load_backbone(cls, load_weights, **kwargs)

    def save_to_preset(
        self, preset_dir, metadata=None, model_card=None, overwrite=False
    ):
        """Saves the backbone as a preset folder: `config.json`,
        `model.weights.h5`, `metadata.json` (with the weights' sha256) and a
        model card `README.md`.

        Args:
            preset_dir: the folder (created if needed).
            metadata: extra entries for `metadata.json` (e.g. epochs, loss).
            model_card: sections of the model card: `title`, `description`,
                `method`, `data`, `settings`, `metrics`, `license`,
                `citation`, `handle` (strings; `settings` and `metrics` may
                be dicts).
            overwrite: write into a folder that is not empty.

        Raises:
            FileExistsError: `preset_dir` is not empty and `overwrite=False`.
        """
        preset_utils.save_preset(
            preset_dir,
            self,
            metadata=metadata,
            model_card=model_card,
            overwrite=overwrite,
        )


class PoolingPath:
    """A backbone's `trunk` (its clouds to the stage's input, a functional
    model) and its `PoolingStage`."""

    def __init__(self, trunk, stage):
        self.trunk = trunk
        self.stage = stage
