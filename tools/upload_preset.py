"""Validates a preset folder and uploads it to the Hugging Face Hub.

The folder must hold config.json, model.weights.h5, metadata.json and
README.md (and task.weights.h5 beside a task.json), and the backbone (or task)
must load from it with its weights; only then is it uploaded with
`huggingface_hub.HfApi().upload_folder` (log in first: `hf auth login`, or
set `HF_TOKEN`). `--dry-run` validates and lists what would be uploaded,
without network.

Usage:
    python tools/upload_preset.py my_preset hf://keras-ttp/ttp_shapenet_dgcnn --dry-run
    python tools/upload_preset.py my_preset hf://keras-ttp/ttp_shapenet_dgcnn
"""

import argparse
import os
import sys

import huggingface_hub

from keras_ttp.models import Backbone
from keras_ttp.models import Task
from keras_ttp.presets import preset_utils


def validate(preset_dir):
    """Checks that every file is there and loads the preset; returns the
    loaded backbone or task. Raises `ValueError` naming what is wrong."""
    if not os.path.isdir(preset_dir):
        raise ValueError(f"{preset_dir} is not a folder.")
    required = list(preset_utils.PRESET_FILES)
    is_task = os.path.isfile(os.path.join(preset_dir, preset_utils.TASK_CONFIG_FILE))
    if is_task:
        required.append(preset_utils.TASK_WEIGHTS_FILE)
    missing = [f for f in required if not os.path.isfile(os.path.join(preset_dir, f))]
    if missing:
        raise ValueError(f"Preset {preset_dir} is incomplete: {missing} missing.")
    preset_utils.load_json(preset_dir, preset_utils.METADATA_FILE)
    return (Task if is_task else Backbone).from_preset(preset_dir)


def folder_files(folder):
    """`(relative path, size in bytes)` of every file under `folder`."""
    files = []
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            files.append((os.path.relpath(path, folder), os.path.getsize(path)))
    return sorted(files)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset_dir", help="the preset folder")
    parser.add_argument("handle", help="hf://owner/name[@revision]")
    parser.add_argument(
        "--dry-run", action="store_true", help="validate and list, upload nothing"
    )
    args = parser.parse_args(argv)
    try:
        repo_id, revision = preset_utils.parse_hf_handle(args.handle)
    except ValueError as error:
        parser.error(str(error))
    try:
        model = validate(args.preset_dir)
    except ValueError as error:
        print(f"Invalid preset: {error}", file=sys.stderr)
        return 1
    print(
        f"Valid preset: {type(model).__name__}, "
        f"{model.count_params():,} parameters."
    )
    action = "Would upload" if args.dry_run else "Uploading"
    print(f"{action} to {args.handle}:")
    for path, size in folder_files(args.preset_dir):
        print(f"  {path}  ({size:,} bytes)")
    if args.dry_run:
        return 0
    api = huggingface_hub.HfApi()
    api.create_repo(repo_id, exist_ok=True)
    if revision:
        api.create_branch(repo_id, branch=revision, exist_ok=True)
    info = api.upload_folder(
        repo_id=repo_id,
        folder_path=args.preset_dir,
        revision=revision,
        commit_message=f"Upload {type(model).__name__} preset",
    )
    print(f"Uploaded: {info.commit_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
