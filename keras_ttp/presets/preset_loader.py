"""`PresetLoader`: builds the backbone or the task that a preset folder holds.

The preset is resolved to its folder once (a registered name, a local
folder or `hf://owner/name[@revision]`) and each JSON file is parsed once.
Before anything is deserialised, the classes that a config names, its nested
backbone included, are checked to be registered keras_ttp classes of the
expected kind; before a weights file is loaded, its sha256 is checked against
the one `metadata.json` records (presets saved without hashes load
unchecked). `Backbone.from_preset` and `Task.from_preset` are calls into it.

The base classes are found by their registered names (`keras_ttp>Backbone`,
`keras_ttp>Task`), the names the files use, so this module does not import
`keras_ttp.models`.
"""

import copy
import os
import re

import keras

from keras_ttp.presets.preset_utils import CONFIG_FILE
from keras_ttp.presets.preset_utils import HASHES_KEY
from keras_ttp.presets.preset_utils import METADATA_FILE
from keras_ttp.presets.preset_utils import TASK_CONFIG_FILE
from keras_ttp.presets.preset_utils import TASK_WEIGHTS_FILE
from keras_ttp.presets.preset_utils import WEIGHTS_FILE
from keras_ttp.presets.preset_utils import file_sha256
from keras_ttp.presets.preset_utils import get_preset_dir
from keras_ttp.presets.preset_utils import load_json
from keras_ttp.utils.arguments import check_keyword_arguments

BACKBONE = "keras_ttp>Backbone"
TASK = "keras_ttp>Task"
# Where a config nests another keras_ttp object: `{key: registered base}`.
NESTED_OBJECTS = {"backbone": BACKBONE}
# Keras prints a variable's values in its load errors; the path and shape
# say which variable it is.
VARIABLE_VALUES = re.compile(
    r"(<Variable path=[^,>]+, shape=\([^)]*\), dtype=\w+), value=.*?\]>", re.S
)


def registered_class(name):
    return keras.saving.get_registered_object(name)


class PresetLoader:
    """The contents of one preset folder.

    Args:
        preset: a registered name, a preset folder, or
            `"hf://owner/name[@revision]"`.
        cls: the class asking (a backbone subclass lets a short registered
            name pick its preset: `DGCNN` and `"ttp_shapenet"`).
        verify_hashes: check each weights file against the sha256 recorded
            in `metadata.json`; `False` for a preset whose weights were
            changed by hand.

    Example:
    >>> loader = PresetLoader("ttp_shapenet_dgcnn")
    >>> model = loader.load()  # the task if it holds one, else the backbone
    """

    def __init__(self, preset, cls=None, verify_hashes=True):
        self.preset = os.fspath(preset)
        backbone = registered_class(BACKBONE)
        hint = None
        if isinstance(cls, type) and issubclass(cls, backbone) and cls is not backbone:
            hint = cls.__name__
        self.preset_dir = get_preset_dir(self.preset, hint)
        self.verify_hashes = verify_hashes
        self.json_files = {}

    def path(self, filename):
        return os.path.join(self.preset_dir, filename)

    def json(self, filename):
        """The parsed `filename`, read once."""
        if filename not in self.json_files:
            self.json_files[filename] = load_json(self.preset_dir, filename)
        return self.json_files[filename]

    def task_class(self):
        """The task class that `task.json` names, or None without one."""
        if not os.path.isfile(self.path(TASK_CONFIG_FILE)):
            return None
        return self.checked_class(TASK_CONFIG_FILE, self.json(TASK_CONFIG_FILE), TASK)

    def load(self, load_weights=True):
        """The task the preset holds, else its backbone."""
        task = self.task_class()
        if task is not None:
            return self.load_task(task, load_weights)
        return self.load_backbone(registered_class(BACKBONE), load_weights)

    def load_backbone(self, cls, load_weights=True, **kwargs):
        """The backbone of `config.json`, which must be a `cls`; `kwargs`
        replace its constructor arguments."""
        backbone = self.build(CONFIG_FILE, BACKBONE, cls, kwargs)
        if load_weights:
            self.load_weights(backbone, WEIGHTS_FILE, CONFIG_FILE)
        return backbone

    def load_task(self, cls, load_weights=True, **kwargs):
        """The task of `task.json` when it is a `cls` (its head weights
        loaded only without `kwargs`, which replace its constructor
        arguments); otherwise a `cls(backbone=..., **kwargs)` around the
        preset's backbone, with a fresh head."""
        found = self.task_class()
        if found is None or not issubclass(found, cls):
            if cls is registered_class(TASK):
                raise ValueError(
                    f"Preset {self.preset} holds no task ({TASK_CONFIG_FILE}): "
                    f"build one around its backbone with a task class, e.g. "
                    f"`PointCloudClassifier.from_preset(preset, num_classes=10)`."
                )
            backbone = self.load_backbone(registered_class(BACKBONE), load_weights)
            return cls(backbone=backbone, **kwargs)
        task = self.build(TASK_CONFIG_FILE, TASK, cls, kwargs)
        if load_weights:
            self.load_weights(task.backbone, WEIGHTS_FILE, TASK_CONFIG_FILE)
            if not kwargs:
                self.load_weights(task.head, TASK_WEIGHTS_FILE, TASK_CONFIG_FILE)
        return task

    def build(self, filename, base, cls, overrides):
        """Deserialises `filename` after checking every class it names."""
        config = self.json(filename)
        found = self.checked_class(filename, config, base)
        if not issubclass(found, cls):
            raise ValueError(
                f"Preset {self.preset_dir} holds a {found.__name__}, not a "
                f"{cls.__name__}: load it with `{found.__name__}.from_preset`."
            )
        self.check_nested(filename, config.get("config"), "config")
        check_keyword_arguments(found, overrides)
        config = copy.deepcopy(config)
        try:
            config["config"] = {**config["config"], **overrides}
            return keras.saving.deserialize_keras_object(config)
        except (TypeError, ValueError, KeyError) as error:
            raise ValueError(
                f"Could not build a {found.__name__} from {self.path(filename)}: "
                f"{error}"
            ) from error

    def checked_class(self, filename, config, base, where=None):
        """The registered keras_ttp class that the serialised `config`
        names, which must subclass the registered `base`; a `ValueError`
        otherwise, before anything is built."""
        base_class = registered_class(base)
        if not isinstance(config, dict):
            config = {}
        name, module, registered = (
            config.get(key) for key in ("class_name", "module", "registered_name")
        )
        found = None
        if isinstance(registered, str) and registered.startswith("keras_ttp>"):
            found = registered_class(registered)
        if (
            isinstance(found, type)
            and issubclass(found, base_class)
            and name == found.__name__
            and isinstance(module, str)
            and module.startswith("keras_ttp.")
        ):
            return found
        place = f" at {where}" if where else ""
        raise ValueError(
            f"{self.path(filename)} does not describe a keras_ttp "
            f"{base_class.__name__}{place} (it names class {name!r}, module "
            f"{module!r}, registered as {registered!r}); the file is corrupted "
            f"or not from keras_ttp. Nothing was built from it."
        )

    def check_nested(self, filename, value, where):
        """Checks the objects serialised inside a config: keras_ttp objects
        where `NESTED_OBJECTS` expects them, Keras built-ins elsewhere."""
        if isinstance(value, list):
            for i, item in enumerate(value):
                self.check_nested(filename, item, f"{where}[{i}]")
            return
        if not isinstance(value, dict):
            return
        for key, item in value.items():
            path = f"{where}.{key}"
            if key in NESTED_OBJECTS:
                self.checked_class(filename, item, NESTED_OBJECTS[key], path)
                self.check_nested(filename, item.get("config"), f"{path}.config")
            elif isinstance(item, dict) and "class_name" in item:
                if not is_keras_builtin(item):
                    raise ValueError(
                        f"{self.path(filename)} holds an object at {path} that "
                        f"keras_ttp does not save there (class "
                        f"{item.get('class_name')!r}, module "
                        f"{item.get('module')!r}); the file is corrupted or not "
                        f"from keras_ttp. Nothing was built from it."
                    )
                self.check_nested(filename, item.get("config"), f"{path}.config")
            else:
                self.check_nested(filename, item, path)

    def recorded_hash(self, filename):
        """The sha256 that `metadata.json` records for `filename`, or None."""
        if not os.path.isfile(self.path(METADATA_FILE)):
            return None
        metadata = self.json(METADATA_FILE)
        hashes = metadata.get(HASHES_KEY, {}) if isinstance(metadata, dict) else {}
        if not isinstance(hashes, dict):
            raise ValueError(
                f"{self.path(METADATA_FILE)}: '{HASHES_KEY}' must map file "
                f"names to sha256 hex digests, got {hashes!r}."
            )
        return hashes.get(filename)

    def check_hash(self, filename):
        recorded = self.recorded_hash(filename)
        if recorded is None:
            return
        found = file_sha256(self.path(filename))
        if found != recorded:
            raise ValueError(
                f"{self.path(filename)} does not match the sha256 recorded for "
                f"it in {METADATA_FILE}: recorded {recorded}, the file has "
                f"{found}. The file was damaged (an incomplete download or "
                f"copy, a disk error) or changed after saving: download or "
                f"copy the preset again. If you changed the weights on "
                f"purpose, save the preset again with `save_to_preset`, or "
                f"load it with `from_preset(..., verify_hashes=False)`."
            )

    def load_weights(self, model, filename, config_filename):
        """Loads `filename` into `model` (built from `config_filename`)."""
        path = self.path(filename)
        if not os.path.isfile(path):
            raise ValueError(
                f"Preset {self.preset_dir} is incomplete: {filename} is missing."
            )
        if self.verify_hashes:
            self.check_hash(filename)
        try:
            model.load_weights(path)
        except (OSError, ValueError, KeyError) as error:
            details = VARIABLE_VALUES.sub(r"\1>", str(error)).strip()
            cause = (
                "the weights do not match the configuration: it was changed "
                "(keyword arguments of `from_preset`, or an edited "
                f"{config_filename}) or the weights were saved from another one"
                if "could not be loaded" in details
                else "the file is truncated or corrupted"
            )
            raise ValueError(
                f"Could not load {filename} of preset {self.preset_dir} into "
                f"{model.name} (a {type(model).__name__} built from "
                f"{config_filename}): {cause}. {type(error).__name__}: {details}"
            ) from error


def is_keras_builtin(config):
    """Whether a serialised object is a Keras built-in (which Keras's safe
    mode governs), not a custom class."""
    module = config.get("module")
    return config.get("registered_name") is None and (
        module == "keras" or (isinstance(module, str) and module.startswith("keras."))
    )
