"""A Hugging Face cache built offline, for `hf://` presets in tests."""

import contextlib
import hashlib
import os
import pathlib
from unittest import mock

from huggingface_hub import constants


def fill_hf_cache(cache_dir, repo_id, preset_dir, revision="main"):
    """Writes `preset_dir` into the Hugging Face cache `cache_dir` as the
    snapshot of model repo `repo_id` at `revision`, in huggingface_hub's
    layout (`refs/<revision>`, `snapshots/<commit>/` linking into `blobs/`).
    Returns the commit hash."""
    commit = hashlib.sha1(f"{repo_id}@{revision}".encode()).hexdigest()
    repo = pathlib.Path(cache_dir, "models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    for folder in (repo / "refs", repo / "blobs", snapshot):
        folder.mkdir(parents=True, exist_ok=True)
    (repo / "refs" / revision).write_text(commit)
    for path in pathlib.Path(preset_dir).iterdir():
        data = path.read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        (snapshot / path.name).symlink_to(os.path.relpath(blob, snapshot))
    return commit


@contextlib.contextmanager
def offline_hub(cache_dir):
    """`HF_HUB_OFFLINE=1` with the cache at `cache_dir`; huggingface_hub
    reads both variables at import, so its constants are patched too."""
    with (
        mock.patch.dict(os.environ, {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": cache_dir}),
        mock.patch.object(constants, "HF_HUB_OFFLINE", True),
        mock.patch.object(constants, "HF_HUB_CACHE", cache_dir),
    ):
        yield
