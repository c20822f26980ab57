import contextlib
import importlib.util
import io
import os
from unittest import mock

import huggingface_hub

import keras_ttp
from keras_ttp.models import PointCloudClassifier
from keras_ttp.models import PointNet
from keras_ttp.presets import preset_utils
from tests.test_case import REPO_ROOT
from tests.test_case import TestCase

spec = importlib.util.spec_from_file_location(
    "upload_preset", REPO_ROOT / "tools" / "upload_preset.py"
)
upload_tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(upload_tool)

BACKBONE_FILES = ["config.json", "model.weights.h5", "metadata.json", "README.md"]
TASK_FILES = BACKBONE_FILES + ["task.json", "task.weights.h5"]


def fake_hub(remote_files=()):
    """A stand-in for `huggingface_hub.HfApi()` whose repository holds
    `remote_files`; nothing goes to the network."""
    hub = mock.MagicMock(spec=huggingface_hub.HfApi)
    hub.list_repo_files.return_value = list(remote_files)
    return mock.patch.object(huggingface_hub, "HfApi", return_value=hub), hub


def committed(hub):
    """`(added {path in repo: local path}, deleted [paths])` of the commit."""
    (_, operations), kwargs = hub.create_commit.call_args
    added = {
        op.path_in_repo: op.path_or_fileobj
        for op in operations
        if isinstance(op, huggingface_hub.CommitOperationAdd)
    }
    deleted = [
        op.path_in_repo
        for op in operations
        if isinstance(op, huggingface_hub.CommitOperationDelete)
    ]
    return added, deleted, kwargs


class UploadPresetTest(TestCase):
    """`keras_ttp.upload_preset(uri, preset)` against a fake Hub API."""

    def setUp(self):
        super().setUp()
        self.preset_dir = os.path.join(self.tmp_dir, "preset")
        backbone = PointNet(embedding_dim=16, input_transform=False)
        backbone.save_to_preset(self.preset_dir)

    def test_sends_only_the_preset_files_and_removes_stale_ones(self):
        patch, hub = fake_hub([".gitattributes", "README.md", "task.json", "old.ckpt"])
        with patch:
            keras_ttp.upload_preset("hf://owner/name@v1", self.preset_dir)
        hub.create_repo.assert_called_once_with("owner/name", exist_ok=True)
        hub.create_branch.assert_called_once_with(
            "owner/name", branch="v1", exist_ok=True
        )
        added, deleted, kwargs = committed(hub)
        folder = self.preset_dir
        expected = {name: os.path.join(folder, name) for name in BACKBONE_FILES}
        self.assertEqual(added, expected)
        self.assertEqual(deleted, ["old.ckpt", "task.json"])
        self.assertEqual(kwargs["revision"], "v1")
        hub.upload_folder.assert_not_called()

    def test_refuses_a_folder_holding_other_files(self):
        with open(os.path.join(self.preset_dir, ".env"), "w") as file:
            file.write("HF_TOKEN=secret\n")
        os.makedirs(os.path.join(self.preset_dir, "checkpoints"))
        patch, hub = fake_hub()
        with patch, self.assertRaisesRegex(
            ValueError,
            r"holds files that are not part of a preset: \['.env', 'checkpoints'\]",
        ):
            keras_ttp.upload_preset("hf://owner/name", self.preset_dir)
        self.assertEqual(hub.method_calls, [])

    def test_refuses_bad_uris_and_presets_that_do_not_load(self):
        patch, hub = fake_hub()
        with patch:
            with self.assertRaisesRegex(ValueError, "hf://owner/name"):
                keras_ttp.upload_preset("owner/name", self.preset_dir)
            with open(os.path.join(self.preset_dir, "model.weights.h5"), "r+b") as file:
                file.truncate(1000)
            with self.assertRaisesRegex(ValueError, "model.weights.h5 does not match"):
                keras_ttp.upload_preset("hf://owner/name", self.preset_dir)
        self.assertEqual(hub.method_calls, [])


class UploadToolTest(TestCase):
    """tools/upload_preset.py, a command line around `upload_preset`."""

    def setUp(self):
        super().setUp()
        self.preset_dir = os.path.join(self.tmp_dir, "preset")
        backbone = PointNet(embedding_dim=16, input_transform=False)
        backbone.save_to_preset(self.preset_dir)

    def run_tool(self, *args):
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = upload_tool.main([self.preset_dir, *args])
        return code, stdout.getvalue(), stderr.getvalue()

    def test_dry_run_on_a_valid_preset(self):
        patch, hub = fake_hub()
        with patch:
            code, out, _ = self.run_tool("hf://owner/name", "--dry-run")
        self.assertEqual(code, 0)
        self.assertEqual(hub.method_calls, [])
        self.assertIn("Valid preset: PointNet", out)
        self.assertIn("Would upload to hf://owner/name:", out)
        for filename in preset_utils.PRESET_FILES:
            self.assertIn(f"  {filename}  (", out)

    def test_invalid_presets(self):
        os.remove(os.path.join(self.preset_dir, "README.md"))
        code, out, err = self.run_tool("hf://owner/name", "--dry-run")
        self.assertEqual((code, out), (1, ""))
        self.assertIn("incomplete: ['README.md'] missing", err)
        PointNet(embedding_dim=16).save_to_preset(self.preset_dir, overwrite=True)
        with open(os.path.join(self.preset_dir, "model.weights.h5"), "r+b") as file:
            file.truncate(1000)
        code, _, err = self.run_tool("hf://owner/name", "--dry-run")
        self.assertEqual(code, 1)
        self.assertIn("model.weights.h5", err)
        with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
            self.run_tool("owner/name", "--dry-run")

    def test_upload_of_a_task_preset(self):
        classifier = PointCloudClassifier(
            PointNet(embedding_dim=16, input_transform=False), num_classes=3
        )
        classifier.save_to_preset(self.preset_dir, overwrite=True)
        patch, hub = fake_hub()
        with patch:
            code, out, _ = self.run_tool("hf://owner/name@dev")
        self.assertEqual(code, 0)
        self.assertIn("Valid preset: PointCloudClassifier", out)
        self.assertIn("  task.weights.h5  (", out)
        hub.create_branch.assert_called_once_with(
            "owner/name", branch="dev", exist_ok=True
        )
        added, deleted, _ = committed(hub)
        self.assertEqual(sorted(added), sorted(TASK_FILES))
        self.assertEqual(deleted, [])
