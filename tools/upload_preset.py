"""Validates a preset folder and uploads it to the Hugging Face Hub, with
`keras_ttp.upload_preset` (see keras_ttp/presets/upload.py).

The folder must hold exactly a preset's files: config.json, model.weights.h5,
metadata.json and README.md (plus task.json and task.weights.h5 for a task),
nothing else; the backbone (or task) must load from it, its weights matching
the sha256 recorded in metadata.json. Log in first (`hf auth login`, or set
`HF_TOKEN`). `--dry-run` validates and lists what would be uploaded, without
network.

Usage:
    python tools/upload_preset.py my_preset hf://me/my_dgcnn@v1 --dry-run
    python tools/upload_preset.py my_preset hf://me/my_dgcnn@v1
"""

import argparse
import os
import sys

from keras_ttp.presets import preset_utils
from keras_ttp.presets import upload


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset_dir", help="the preset folder")
    parser.add_argument("handle", help="hf://owner/name[@revision]")
    parser.add_argument(
        "--dry-run", action="store_true", help="validate and list, upload nothing"
    )
    args = parser.parse_args(argv)
    try:
        preset_utils.parse_hf_handle(args.handle)
    except ValueError as error:
        parser.error(str(error))
    try:
        model, files = upload.validate_preset(args.preset_dir)
    except ValueError as error:
        print(f"Invalid preset: {error}", file=sys.stderr)
        return 1
    print(
        f"Valid preset: {type(model).__name__}, "
        f"{model.count_params():,} parameters."
    )
    print(f"{'Would upload' if args.dry_run else 'Uploading'} to {args.handle}:")
    for name in files:
        size = os.path.getsize(os.path.join(args.preset_dir, name))
        print(f"  {name}  ({size:,} bytes)")
    if args.dry_run:
        return 0
    info = upload.upload_preset(args.handle, args.preset_dir)
    print(f"Uploaded: {info.commit_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
