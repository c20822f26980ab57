"""The registry of named presets.

Each entry maps a preset name to its `description`, the `backbone` class it
holds, the `path` of its folder when it ships inside the package (relative to
`keras_ttp/presets/`) and its `hf_handle` on the Hugging Face Hub. Names end
in the backbone, lower-cased (`ttp_shapenet_pointnet`), so that
`PointNet.from_preset("ttp_shapenet")` finds the PointNet one.

Each `hf_handle` names a revision, `RELEASE`: the release of keras_ttp whose
shipped folder the Hub copy holds. A handle without one would follow the
repository's `main`, which a later upload changes under an installed
package; with it, one keras_ttp version loads the same files from the Hub
as it ships. Publish with
`keras_ttp.upload_preset("hf://keras-ttp/<name>@<RELEASE>", folder)`.
"""

import copy
import pathlib

# The Hub revision (a branch or tag) that the registered handles name.
RELEASE = "v0.1.0"

# Where shipped preset folders live: `keras_ttp/presets/<path>/`.
PRESETS_DIR = pathlib.Path(__file__).resolve().parent

PRESETS = {
    "ttp_shapenet_pointnet": {
        "description": (
            "PointNet encoder (1024-d global feature) pre-trained with "
            "ToThePoint on the 260-shape ShapeNet subset, 2048 points."
        ),
        "backbone": "PointNet",
        "path": "ttp_shapenet_pointnet",
        "hf_handle": f"hf://keras-ttp/ttp_shapenet_pointnet@{RELEASE}",
    },
    "ttp_shapenet_dgcnn": {
        "description": (
            "DGCNN encoder (k=20, 1024-d global feature) pre-trained with "
            "ToThePoint on the 260-shape ShapeNet subset, 2048 points."
        ),
        "backbone": "DGCNN",
        "path": "ttp_shapenet_dgcnn",
        "hf_handle": f"hf://keras-ttp/ttp_shapenet_dgcnn@{RELEASE}",
    },
}


# Short names that stand for one backbone's preset when no backbone class
# says which: `PointCloudClassifier.from_preset("ttp_shapenet")` takes the
# DGCNN encoder, the paper's headline model.
DEFAULTS = {"ttp_shapenet": "ttp_shapenet_dgcnn"}


def package_folder(name):
    """The folder in which the registered preset `name` ships inside the
    package, `PRESETS_DIR / path` (whether or not it is there)."""
    return PRESETS_DIR / PRESETS[name]["path"]


def list_presets(backbone=None):
    """The registered presets, `{name: entry}`, optionally only those of
    one backbone class name.

    Example:
    >>> sorted(list_presets(backbone="DGCNN"))
    ['ttp_shapenet_dgcnn']
    """
    return {
        name: copy.deepcopy(entry)
        for name, entry in PRESETS.items()
        if backbone is None or entry["backbone"] == backbone
    }


def find_preset(name, backbone=None):
    """The full name and entry of the registered preset `name`, or `None`
    when `name` is not registered.

    `backbone` (a class name) lets a short name pick that backbone's preset:
    `find_preset("ttp_shapenet", "DGCNN")` is `ttp_shapenet_dgcnn`; without
    a backbone a short name means its entry in `DEFAULTS`. A short name
    with no default, or a preset of another backbone, is an error.
    """
    full_name = name
    if name not in PRESETS and backbone is not None:
        full_name = f"{name}_{backbone.lower()}"
    elif name not in PRESETS and name in DEFAULTS:
        full_name = DEFAULTS[name]
    if full_name in PRESETS:
        entry = PRESETS[full_name]
        if backbone is not None and entry["backbone"] != backbone:
            raise ValueError(
                f"Preset '{full_name}' holds a {entry['backbone']} backbone, "
                f"not a {backbone}: load it with "
                f"`{entry['backbone']}.from_preset('{full_name}')`."
            )
        return full_name, copy.deepcopy(entry)
    family = sorted(n for n in PRESETS if n.startswith(f"{name}_"))
    if family:
        raise ValueError(
            f"'{name}' names one preset per backbone: {family}. Use a full "
            f"name, or call the backbone class, e.g. "
            f"`PointNet.from_preset('{name}')`."
        )
    return None
