import keras

from keras_ttp.layers.batch_norm import batch_norm
from keras_ttp.distribution import MultiWorkerLogs
from keras_ttp.models.checks import ChecksInputPoints
from keras_ttp.presets import preset_utils
from keras_ttp.presets import registry
from keras_ttp.presets.preset_loader import PresetLoader
from keras_ttp.utils.arguments import MODEL_KEYWORDS
from keras_ttp.utils.arguments import check_keyword_arguments
from keras_ttp.utils.compiling import compile_from_saved_config
from keras_ttp.utils.compiling import use_xla_on_tensorflow


@keras.saving.register_keras_serializable(package="keras_ttp")
class Task(ChecksInputPoints, MultiWorkerLogs, keras.Model):
    """Base class of the tasks: a functional model wrapping a `backbone`
    and a trainable `head`.

    Subclasses build their functional graph in `__init__`, pass it here with
    the backbone and the head, and list their other constructor arguments in
    `get_config`. A task is compiled when built, with the defaults of
    `compile()` for integer labels: Adam (learning rate 1e-3),
    `SparseCategoricalCrossentropy` on logits, accuracy; call `compile()`
    again to change them (`compile=False` skips it).

    Presets: `from_preset` builds a task around a preset's backbone, with a
    fresh head, or restores a whole task saved with `save_to_preset`.
    """

    def __init__(self, *args, backbone, head, compile=True, **kwargs):
        check_keyword_arguments(
            type(self), kwargs, ("inputs", "outputs", *MODEL_KEYWORDS)
        )
        super().__init__(*args, **kwargs)
        if kwargs.get("dtype") is not None:  # Keras's functional models drop it
            self.dtype_policy = kwargs["dtype"]
        self.backbone = backbone
        self.head = head
        if compile:  # `fit` works without a `compile()` call, as in keras-hub.
            self.compile()

    def compile(
        self,
        optimizer="auto",
        loss="auto",
        *,
        metrics="auto",
        jit_compile="auto",
        **kwargs,
    ):
        """`keras.Model.compile` where `"auto"` picks Adam(1e-3),
        `SparseCategoricalCrossentropy(from_logits=True)` and accuracy, and
        XLA on the tensorflow backend (`use_xla_on_tensorflow`)."""
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(learning_rate=1e-3)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        super().compile(
            optimizer=optimizer,
            loss=loss,
            metrics=metrics,
            jit_compile=jit_compile,
            **kwargs,
        )
        use_xla_on_tensorflow(self, jit_compile)

    def compile_from_config(self, config):
        compile_from_saved_config(self, config)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "backbone": keras.saving.serialize_keras_object(self.backbone),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)

    @preset_utils.classproperty
    def presets(cls):
        """The registered presets (a task can wrap any backbone)."""
        return registry.list_presets()

    @classmethod
    def from_preset(cls, preset, load_weights=True, verify_hashes=True, **kwargs):
        """Builds the task from a preset (see `PresetLoader`).

        With a preset saved from a task of this class and no `kwargs`, the
        whole task comes back, head weights included. Otherwise the task is
        built around the preset's backbone (its weights loaded when
        `load_weights`) with a freshly initialised head: `kwargs` are the
        task's constructor arguments (e.g. `num_classes`), replacing the
        saved ones where the preset holds a task of this class.

        Args:
            preset: a full registered name (`Task.presets`), a preset
                folder, or `"hf://owner/name[@revision]"`.
            load_weights: load the saved weights.
            verify_hashes: check each weights file against the sha256 that
                `metadata.json` records; `False` for hand-edited weights.
            **kwargs: constructor arguments of the task.

        Example:
        >>> classifier = PointCloudClassifier.from_preset(
        ...     "ttp_shapenet_dgcnn", num_classes=10
        ... )
        """
        loader = PresetLoader(preset, cls, verify_hashes=verify_hashes)
        return loader.load_task(cls, load_weights, **kwargs)

    def save_to_preset(
        self, preset_dir, metadata=None, model_card=None, overwrite=False
    ):
        """Saves the task as a preset folder: the backbone's files (see
        `Backbone.save_to_preset`, same arguments) plus `task.json` and the
        head's weights `task.weights.h5`."""
        preset_utils.save_preset(
            preset_dir,
            self.backbone,
            task=self,
            metadata=metadata,
            overwrite=overwrite,
            model_card=model_card,
        )


def mlp_head(hidden_dims, output_dim, dropout, name="head", dtype=None):
    """`Dense + BatchNorm + ReLU + Dropout` per hidden width, then a `Dense`
    to `output_dim` logits; works on `(batch, dim)` and `(batch, points,
    dim)` alike."""
    layers = []
    for i, units in enumerate(hidden_dims):
        layers += [
            keras.layers.Dense(units, name=f"dense{i + 1}", dtype=dtype),
            batch_norm(f"dense{i + 1}_bn", dtype),
            keras.layers.ReLU(name=f"dense{i + 1}_relu", dtype=dtype),
            keras.layers.Dropout(dropout, name=f"dense{i + 1}_dropout", dtype=dtype),
        ]
    layers.append(keras.layers.Dense(output_dim, name="logits", dtype=dtype))
    return keras.Sequential(layers, name=name)
