"""tools/gpu_check.py: its workers in this process on tiny sizes, its time
limit, its reading of pytest's output and errors, and (slow) its whole
`--quick` run on the torch backend."""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from keras_ttp.layers import RecyclingMaxPooling
from tests.test_case import REPO_ROOT
from tests.test_case import TestCase
from tools import gpu_check

PYTEST_OUTPUT = """\
tests/layers/test_a.py::ATest::test_one PASSED                [ 20%]
tests/layers/test_a.py::ATest::test_two FAILED                [ 40%]
tests/models/test_b.py::BTest::test_three SKIPPED (no data)   [ 60%]
tests/models/test_b.py::BTest::test_four ERROR                [ 80%]
tests/presets/test_c.py::test_five PASSED                     [100%]
FAILED tests/layers/test_a.py::ATest::test_two - AssertionError
"""


def worker_args(**kwargs):
    defaults = {"warmup": 0, "repeats": 1, "channels": 8, "batch_size": 2, "num_points": 16}
    return argparse.Namespace(**{**defaults, **kwargs})


def running(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            return "\tZ" not in next(line for line in status if line.startswith("State:"))
    except FileNotFoundError:
        return False


class GpuCheckTest(TestCase):
    def test_counts_pytest_outcomes(self):
        self.assertEqual(
            gpu_check.count_outcomes(PYTEST_OUTPUT),
            {"passed": 2, "failed": 1, "error": 1, "skipped": 1},
        )

    def test_error_summary_names_the_library_frame(self):
        try:
            RecyclingMaxPooling()(np.zeros((2, 3), "float32"))
        except ValueError as error:
            summary = gpu_check.error_summary(error)
        self.assertRegex(
            summary,
            r"^ValueError: RecyclingMaxPooling expects .* \(at keras_ttp/\S+\.py:\d+ in \w+\)$",
        )

    def test_selection_methods_agree_with_the_sort(self):
        rows = gpu_check.selection_worker(worker_args())
        self.assertEqual(
            [row["item"].split()[0] for row in rows], list(gpu_check.SELECTION_METHODS)
        )
        for row in rows:
            self.assertEqual(row["status"], "measured", row)
            self.assertTrue(row["agrees_with_sort"])
            steps = gpu_check.SHAPES // 2
            self.assertAlmostEqual(row["epoch_s"], 2 * row["call_s"] * steps)

    def test_presets_agree_with_the_recorded_reference(self):
        rows = gpu_check.presets_worker(worker_args())
        self.assertEqual(len(rows), 2)
        for row in rows:
            self.assertEqual(row["status"], "passed", row)
            self.assertLess(row["relative_deviation"], 1e-4)

    def test_skips_what_does_not_fit_the_time_limit(self):
        output = os.path.join(self.tmp_dir, "check.json")
        start = time.monotonic()
        gpu_check.main(["--quick", "--time-limit", "0", "--output", output])
        self.assertLess(time.monotonic() - start, 5)
        with open(output) as file:
            rows = json.load(file)["rows"]
        # environment, presets, tests, 4 steps and 2 selections per backend.
        self.assertEqual(len(rows), 2 * (1 + 1 + 1 + 4 + 2))
        self.assertEqual({row["status"] for row in rows}, {"skipped"})

    def test_a_run_past_its_time_is_killed_with_its_children(self):
        pid_file = os.path.join(self.tmp_dir, "child.pid")
        script = (
            "import subprocess, sys; print('started', flush=True); "
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            f"open({pid_file!r}, 'w').write(str(child.pid)); child.wait()"
        )
        returncode, stdout, _ = gpu_check.run_within([sys.executable, "-c", script], "torch", 3)
        self.assertIsNone(returncode)
        self.assertEqual(stdout, "started\n")
        with open(pid_file) as file:
            child = int(file.read())
        for _ in range(50):  # killed: gone, or a zombie until reaped
            if not running(child):
                break
            time.sleep(0.1)
        self.assertFalse(running(child))

    @pytest.mark.slow
    def test_quick_run_on_torch(self):
        output = os.path.join(self.tmp_dir, "check.json")
        command = [sys.executable, "tools/gpu_check.py", "--quick", "--backends", "torch",
                   "--time-limit", "600", "--output", output]  # fmt: skip
        subprocess.run(command, cwd=REPO_ROOT, check=True, timeout=700)
        with open(output) as file:
            rows = json.load(file)["rows"]
        statuses = {(row["section"], row["item"]): row["status"] for row in rows}
        self.assertNotIn("skipped", statuses.values(), rows)
        self.assertEqual(statuses[("presets", "ttp_shapenet_dgcnn")], "passed")
        tests = [row for row in rows if row["section"] == "tests"]
        self.assertGreater(tests[0]["passed"], 0)
        steps = [row for row in rows if row["section"] == "steps"]
        self.assertEqual(len(steps), 4)
