import keras

from keras_ttp.presets import preset_utils
from keras_ttp.presets import registry
from keras_ttp.presets.preset_loader import PresetLoader


@keras.saving.register_keras_serializable(package="keras_ttp")
class Backbone(keras.Model):
    """Base class of the point-cloud backbones.

    A backbone is a functional model from point clouds `(batch, num_points,
    3)`, any number of points, to a dict with the per-point features
    `"point_features"` `(batch, num_points, dim)` and the max-pooled global
    feature `"global_features"` `(batch, dim)`. Subclasses build their layers
    and functional graph in `__init__` and list their constructor arguments
    in `get_config`.

    Calling a backbone on a tensor whose shape is wrong raises a `ValueError`
    that says what was expected.

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
    # Names of the last point-wise layers, `(dense, batch_norm, activation)`
    # (activation None when there is none), which `pooling_head` splits off.
    pooling_head_layers = None

    def __call__(self, inputs, *args, **kwargs):
        self.check_points_shape(getattr(inputs, "shape", None))
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

    def pooling_head(self):
        """The backbone split before its last point-wise layers, for
        ToThePoint to pool their output without computing it at every point
        in the backward pass (`RecyclingMaxPooling.pool_dense_batch_norm`).

        Returns a `PoolingHead` (`trunk`, a functional model from the clouds
        to the input of `dense`; `dense`; `batch_norm`; `activation` or
        None), or None when the backbone names no `pooling_head_layers`.
        """
        if self.pooling_head_layers is None:
            return None
        # A plain object, which neither Keras's tracking nor its saving
        # visits: the trunk's layers are the backbone's own.
        if getattr(self, "_pooling_head", None) is None:
            dense, bn, activation = (
                None if name is None else self.get_layer(name)
                for name in self.pooling_head_layers
            )
            trunk = keras.Model(self.inputs, dense.input, name=f"{self.name}_trunk")
            self._pooling_head = PoolingHead(trunk, dense, bn, activation)
        return self._pooling_head

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable}

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


class PoolingHead:
    """`Backbone.pooling_head`: the backbone's point features are
    `activation(batch_norm(dense(trunk(points))))`."""

    def __init__(self, trunk, dense, batch_norm, activation):
        self.trunk = trunk
        self.dense = dense
        self.batch_norm = batch_norm
        self.activation = activation


def pooled_outputs(point_features):
    """A backbone's outputs: the per-point features and their max over the
    points, the global feature."""
    global_features = keras.layers.GlobalMaxPooling1D(name="max_pool")(
        point_features
    )
    return {"point_features": point_features, "global_features": global_features}
