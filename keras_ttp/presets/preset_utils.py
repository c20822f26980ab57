"""Reading and writing preset folders.

A preset is a folder holding a backbone (`config.json`, `model.weights.h5`),
optionally a task around it (`task.json` and the head's `task.weights.h5`),
`metadata.json` (versions, backend, date, parameter count) and a model card
`README.md`. `get_preset_dir` finds the folder from a registered name, a
local path or an `hf://owner/name[@revision]` handle; `PresetLoader`
(preset_loader.py) builds what the folder holds.

`metadata.json` records the sha256 of each weights file under
`weights_sha256` (`{"model.weights.h5": "<hex digest>", ...}`), which
loading checks.
"""

import datetime
import hashlib
import json
import os

import huggingface_hub
import keras

from keras_ttp.presets import registry
from keras_ttp.presets.model_card import render_model_card
from keras_ttp.version import __version__

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
README_FILE = "README.md"
TASK_CONFIG_FILE = "task.json"
TASK_WEIGHTS_FILE = "task.weights.h5"
PRESET_FILES = (CONFIG_FILE, WEIGHTS_FILE, METADATA_FILE, README_FILE)
TASK_FILES = (TASK_CONFIG_FILE, TASK_WEIGHTS_FILE)
HASHES_KEY = "weights_sha256"
HF_PREFIX = "hf://"


class classproperty(property):
    """A read-only property of the class (`Backbone.presets`)."""

    def __get__(self, _, owner):
        return self.fget(owner)


def parse_hf_handle(handle):
    """`"hf://owner/name@rev"` -> `("owner/name", "rev")` (revision `None`
    when absent)."""
    repo_id, _, revision = handle.removeprefix(HF_PREFIX).partition("@")
    owner, _, name = repo_id.partition("/")
    if not handle.startswith(HF_PREFIX) or not owner or not name or "/" in name:
        raise ValueError(
            f"Hugging Face handles look like 'hf://owner/name' or "
            f"'hf://owner/name@revision', got '{handle}'."
        )
    return repo_id, revision or None


def download_hf_preset(handle):
    """Local snapshot folder of `hf://owner/name[@revision]`, through
    `huggingface_hub.snapshot_download` (its cache, `HF_HUB_OFFLINE=1`)."""
    repo_id, revision = parse_hf_handle(handle)
    return huggingface_hub.snapshot_download(repo_id, revision=revision)


def get_preset_dir(preset, backbone=None):
    """The local folder of `preset`: an `hf://` handle, else an existing
    folder, else a registered name. `backbone` (a class name) picks a
    registered preset by its short name (see `registry.find_preset`)."""
    preset = os.fspath(preset)
    if preset.startswith(HF_PREFIX):
        try:
            return download_hf_preset(preset)
        except OSError as error:
            raise FileNotFoundError(
                f"Could not get preset '{preset}' from the Hugging Face Hub "
                f"or its cache ({huggingface_hub.constants.HF_HUB_CACHE}): "
                f"{summary(error)}"
            ) from error
    if os.path.isdir(preset):
        return preset
    found = registry.find_preset(preset, backbone)
    if found is not None:
        return registered_preset_dir(*found)
    raise ValueError(
        f"Unknown preset '{preset}': not a registered preset, a preset "
        f"folder, or an 'hf://owner/name' handle. Registered presets: "
        f"{sorted(registry.PRESETS)}."
    )


def registered_preset_dir(name, entry):
    """The folder shipped with the package, else the Hub (or cache) copy."""
    shipped = registry.package_folder(name)
    if shipped.is_dir():
        return str(shipped)
    try:
        return download_hf_preset(entry["hf_handle"])
    except OSError as error:
        raise FileNotFoundError(
            f"Preset '{name}' (a {entry['backbone']}) is registered but not "
            f"available. Looked for (1) the folder shipped with keras_ttp, "
            f"{shipped}: not there; (2) {entry['hf_handle']} on the Hugging "
            f"Face Hub and in its cache "
            f"({huggingface_hub.constants.HF_HUB_CACHE}): {summary(error)} "
            f"If you are offline, download it once with network access (or "
            f"copy the preset folder and pass its path). If it is not "
            f"published yet, pre-train your own and save it with "
            f"`backbone.save_to_preset(folder)`."
        ) from error


def summary(error):
    """First line of an error, prefixed with its class name."""
    lines = str(error).strip().splitlines() or [""]
    return f"{type(error).__name__}: {lines[0]}"


def load_json(preset_dir, filename):
    """The parsed JSON file `filename` of the preset; a `ValueError` naming
    the file when it is missing or not valid JSON."""
    path = os.path.join(preset_dir, filename)
    if not os.path.isfile(path):
        raise ValueError(
            f"Preset {preset_dir} is incomplete: {filename} is missing. A "
            f"preset holds {', '.join(PRESET_FILES)}."
        )
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is corrupted, not valid JSON: {error}") from error


def save_preset(
    preset_dir, backbone, task=None, metadata=None, model_card=None, overwrite=False
):
    """Writes `backbone` (and `task`, whose head weights go to
    `task.weights.h5`) with `metadata.json` and a model card to
    `preset_dir`. `metadata` entries are added to `metadata.json`;
    `model_card` fills the sections of `README.md` (see
    `render_model_card`). `metadata.json` records the sha256 of each
    weights file written (`HASHES_KEY`). A folder that is not empty is only written into
    with `overwrite=True`."""
    if os.path.isdir(preset_dir) and os.listdir(preset_dir) and not overwrite:
        raise FileExistsError(
            f"{preset_dir} already exists and is not empty. Pass "
            "`overwrite=True` to replace the preset in it, or choose a new folder."
        )
    os.makedirs(preset_dir, exist_ok=True)
    serialize = keras.saving.serialize_keras_object
    save_json(preset_dir, CONFIG_FILE, serialize(backbone))
    backbone.save_weights(os.path.join(preset_dir, WEIGHTS_FILE))
    weights_files = [WEIGHTS_FILE]
    model = backbone
    if task is not None:
        save_json(preset_dir, TASK_CONFIG_FILE, serialize(task))
        task.head.save_weights(os.path.join(preset_dir, TASK_WEIGHTS_FILE))
        weights_files.append(TASK_WEIGHTS_FILE)
        model = task
    else:  # A task saved here before is no longer this backbone's.
        for filename in TASK_FILES:
            if os.path.isfile(os.path.join(preset_dir, filename)):
                os.remove(os.path.join(preset_dir, filename))
    metadata = {
        "keras_ttp_version": __version__,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "class_name": type(model).__name__,
        "backbone": type(backbone).__name__,
        "parameter_count": model.count_params(),
        **(metadata or {}),
        HASHES_KEY: {
            filename: file_sha256(os.path.join(preset_dir, filename))
            for filename in weights_files
        },
    }
    save_json(preset_dir, METADATA_FILE, metadata)
    with open(os.path.join(preset_dir, README_FILE), "w", encoding="utf-8") as file:
        file.write(render_model_card(metadata, **(model_card or {})))


def file_sha256(path):
    """The sha256 hex digest of the file at `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_json(preset_dir, filename, obj):
    with open(os.path.join(preset_dir, filename), "w", encoding="utf-8") as file:
        json.dump(obj, file, indent=4)
