"""Data-parallel steps equal single-device ones (tests/distribution/checks.py,
each in a process of its own). A test runs once in CI: in the suite's run
for its engine's backend, skipped in the others."""

import json
import os
import socket
import subprocess
import sys

import keras
import pytest

from tests.test_case import REPO_ROOT
from tests.test_case import TestCase

TOLERANCE = 1e-5


def run_check(name, extra_env=None, timeout=600):
    processes = start_check(name, [extra_env or {}])
    return finish(processes, timeout)[0]


def start_check(name, envs):
    processes = []
    for extra_env in envs:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **extra_env)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT)] + [p for p in [env.get("PYTHONPATH")] if p]
        )
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "tests.distribution.checks", name],
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    return processes


def finish(processes, timeout):
    results = []
    for process in processes:
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for other in processes:  # none left running after the test
                other.kill()
            raise
        lines = [l for l in output.splitlines() if l.startswith("RESULT ")]
        if process.returncode != 0 or not lines:
            raise AssertionError(f"check failed:\n{output[-4000:]}")
        results.append(json.loads(lines[-1][len("RESULT ") :]))
    return results


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def only_on(backend):
    return pytest.mark.skipif(
        keras.backend.backend() != backend,
        reason=f"runs in the suite's {backend} run",
    )


class DataParallelTest(TestCase):
    def assert_equal_step(self, result, terms=True):
        self.assertGreater(result["replicas"], 1)
        names = ["loss"]
        if terms:
            names += ["intra_branch_1_loss", "intra_branch_2_loss", "cross_branch_loss"]
        for name in names:
            self.assertLess(result["logs"][name], TOLERANCE, (name, result))
        self.assertLess(result["weights"], TOLERANCE, result)

    @only_on("jax")
    def test_jax_data_parallel_pretraining_step(self):
        # 4 host devices under keras.distribution.DataParallel.
        self.assert_equal_step(run_check("jax_pretraining"))

    @only_on("tensorflow")
    def test_tensorflow_mirrored_pretraining_step(self):
        # 2 logical CPUs under MirroredStrategy, synchronised BatchNorm.
        result = run_check("tf_pretraining")
        self.assert_equal_step(result)
        # Negatives kept per replica: a different objective, so a lost
        # gather would show.
        self.assertGreater(
            abs(result["per_replica_loss"] - result["reference_logs"]["loss"]), 0.1
        )
        # DGCNN's EdgeConv synchronises its edge moments too.
        self.assertLess(result["edge_conv"], TOLERANCE, result)

    @only_on("jax")
    def test_jax_data_parallel_fine_tuning_step(self):
        self.assert_equal_step(run_check("jax_fine_tuning"), terms=False)

    @only_on("tensorflow")
    def test_tensorflow_mirrored_fine_tuning_step(self):
        self.assert_equal_step(run_check("tf_fine_tuning"), terms=False)

    @only_on("tensorflow")
    def test_tensorflow_two_workers_on_loopback(self):
        # Two processes, MultiWorkerMirroredStrategy, each reading its shard:
        # after two steps both hold the same weights, those of one process
        # training on the global batches.
        ports = free_ports(2)
        cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
        envs = [
            {
                "TF_CONFIG": json.dumps(
                    {"cluster": cluster, "task": {"type": "worker", "index": i}}
                )
            }
            for i in range(2)
        ]
        first, second = finish(start_check("tf_multi_worker", envs), timeout=600)
        difference = max(
            abs(a - b)
            for wa, wb in zip(first["weights"], second["weights"])
            for a, b in zip(flatten(wa), flatten(wb))
        )
        self.assertEqual(difference, 0.0)
        reference = first["reference"]
        self.assertLess(reference["weights"], TOLERANCE, reference)
        self.assertLess(reference["logs"]["loss"], TOLERANCE, reference)


def flatten(value):
    if isinstance(value, list):
        for item in value:
            yield from flatten(item)
    else:
        yield value
