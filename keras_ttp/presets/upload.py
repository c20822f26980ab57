"""Publishing a preset folder on the Hugging Face Hub: `upload_preset`.

Only the preset's own files are sent (`config.json`, `model.weights.h5`,
`metadata.json`, `README.md`, and `task.json` with `task.weights.h5` for a
task); a folder holding anything else (a `.env`, a checkpoint, a log) is
refused, so that nothing else can be published by accident.
"""

import os

import huggingface_hub

from keras_ttp.presets.preset_loader import PresetLoader
from keras_ttp.presets.preset_utils import PRESET_FILES
from keras_ttp.presets.preset_utils import TASK_CONFIG_FILE
from keras_ttp.presets.preset_utils import TASK_FILES
from keras_ttp.presets.preset_utils import parse_hf_handle

# Files of a Hub repository that are not the preset's and stay there.
HUB_FILES = (".gitattributes",)


def preset_files(preset_dir):
    """The names of the preset's files in `preset_dir`; a `ValueError`
    naming what is missing or what else lies in the folder."""
    if not os.path.isdir(preset_dir):
        raise ValueError(f"{preset_dir} is not a folder.")
    present = set(os.listdir(preset_dir))
    expected = list(PRESET_FILES)
    if TASK_CONFIG_FILE in present:
        expected += TASK_FILES
    missing = [name for name in expected if name not in present]
    if missing:
        raise ValueError(f"Preset {preset_dir} is incomplete: {missing} missing.")
    others = sorted(present - set(expected))
    if others:
        raise ValueError(
            f"Preset {preset_dir} holds files that are not part of a preset: "
            f"{others}. Only {expected} are uploaded; move the others out of "
            f"the folder (or save the preset to a new folder with "
            f"`save_to_preset`) so that nothing else can be published."
        )
    return expected


def validate_preset(preset_dir):
    """`(model, files)`: the backbone or task loaded from `preset_dir` with
    its weights (hashes checked) and the names of the files to upload."""
    files = preset_files(preset_dir)
    return PresetLoader(preset_dir).load(), files


def upload_preset(uri, preset):
    """Uploads the preset folder `preset` to `uri`,
    `"hf://owner/name[@revision]"`, after checking that it holds only a
    preset's files and that it loads. The repository is created if needed,
    and the revision as a branch; files of the repository that are not the
    preset's are deleted in the same commit, so that it holds this preset
    alone. Log in first (`hf auth login`, or set `HF_TOKEN`).

    Returns the `huggingface_hub.CommitInfo` of the commit.

    Example:
    >>> keras_ttp.upload_preset("hf://me/my_dgcnn@v1", "runs/my_dgcnn")
    """
    repo_id, revision = parse_hf_handle(os.fspath(uri))
    model, files = validate_preset(os.fspath(preset))
    api = huggingface_hub.HfApi()
    api.create_repo(repo_id, exist_ok=True)
    if revision:
        api.create_branch(repo_id, branch=revision, exist_ok=True)
    stale = set(api.list_repo_files(repo_id, revision=revision))
    stale -= set(files) | set(HUB_FILES)
    operations = [
        huggingface_hub.CommitOperationAdd(
            path_in_repo=name, path_or_fileobj=os.path.join(preset, name)
        )
        for name in files
    ]
    operations += [
        huggingface_hub.CommitOperationDelete(path_in_repo=name)
        for name in sorted(stale)
    ]
    return api.create_commit(
        repo_id,
        operations,
        commit_message=f"Upload {type(model).__name__} preset",
        revision=revision,
    )
