import contextlib
import importlib.util
import io
import os
from unittest import mock

from keras_ttp.models import PointCloudClassifier
from keras_ttp.models import PointNet
from tests.test_case import REPO_ROOT
from tests.test_case import TestCase

spec = importlib.util.spec_from_file_location(
    "upload_preset", REPO_ROOT / "tools" / "upload_preset.py"
)
upload_preset = importlib.util.module_from_spec(spec)
spec.loader.exec_module(upload_preset)


class UploadPresetTest(TestCase):
    def setUp(self):
        super().setUp()
        self.preset_dir = os.path.join(self.tmp_dir, "preset")
        backbone = PointNet(embedding_dim=16, input_transform=False)
        backbone.save_to_preset(self.preset_dir)

    def run_tool(self, *args):
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = upload_preset.main([self.preset_dir, *args])
        return code, stdout.getvalue(), stderr.getvalue()

    def test_dry_run_on_a_valid_preset(self):
        with mock.patch.object(upload_preset.huggingface_hub, "HfApi") as api:
            code, out, _ = self.run_tool("hf://owner/name", "--dry-run")
        self.assertEqual(code, 0)
        api.assert_not_called()
        self.assertIn("Valid preset: PointNet", out)
        self.assertIn("Would upload to hf://owner/name:", out)
        for filename in upload_preset.preset_utils.PRESET_FILES:
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
        with mock.patch.object(upload_preset.huggingface_hub, "HfApi") as api:
            code, out, _ = self.run_tool("hf://owner/name@dev")
        self.assertEqual(code, 0)
        self.assertIn("Valid preset: PointCloudClassifier", out)
        self.assertIn("  task.weights.h5  (", out)
        hub = api.return_value
        hub.create_repo.assert_called_once_with("owner/name", exist_ok=True)
        hub.create_branch.assert_called_once_with(
            "owner/name", branch="dev", exist_ok=True
        )
        kwargs = hub.upload_folder.call_args.kwargs
        self.assertEqual(
            (kwargs["repo_id"], kwargs["folder_path"], kwargs["revision"]),
            ("owner/name", self.preset_dir, "dev"),
        )
