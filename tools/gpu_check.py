"""Checks keras-ttp on whatever accelerator it finds (or the CPU): tests,
shipped presets, pre-training step and selection timings, for the jax and
torch backends, within a time limit.

For every backend (each section in its own subprocess, `KERAS_BACKEND`
set), in this order (`--sections` picks and orders them):

- `presets`: loads every shipped preset by its registered name
  (`Backbone.from_preset`) and embeds 2 fixed seeded clouds of 512 points
  (`reference_clouds`); passes when the embeddings agree with the values
  recorded on a CPU (`tools/gpu_check_reference.npz`, `--record-reference`)
  to `max |a - b| <= PRESET_TOLERANCE * max |b|`, a relative tolerance
  that leaves room for TF32 matmuls on a GPU (10-bit mantissas) and
  different summation orders;
- `steps`: one ToThePoint pre-training step (`tools/benchmark.py`'s
  `keras_step`, compiled as the library compiles by default) per backbone
  at the paper's settings (PointNet B=128, DGCNN B=32, N=2048) and per
  dtype policy (`float32`, `mixed_bfloat16`), the median after warm-up,
  and the epoch time of the 260 ShapeNet shapes (`260 // B` steps); a
  policy the library fails under is a failed row with its error;
- `selection`: the recycling selection alone, the `(rank + 1)`-th largest
  of the int32 keys of one pooling head `(B, 1024, N)` (64 channels with
  `--quick`), by each method:
  bisection (whole batch, and one sample at a time as the library runs it
  under XLA), sort, and `ops.top_k`; its time per step (two views) and per
  epoch, and whether it agrees with the sort;
- `tests`: `pytest tests/layers tests/models tests/presets`, the counts of
  passed, failed, errors and skipped (at most `--tests-share` of the time
  left; an interrupted run reports the counts so far).

It prints one table, writes it as JSON (`--output`), and stops within
`--time-limit` seconds: a section that does not start in time is reported
as skipped, one still running at the limit is stopped and reported as
skipped (with what it had finished).

Usage:
    python tools/gpu_check.py --output gpu_check.json --time-limit 540
    python tools/gpu_check.py --quick            # small sizes, a few minutes on a CPU
    KERAS_BACKEND=tensorflow python tools/gpu_check.py --record-reference  # on a CPU

On the GPU machine, with the wheels of tools/prepare_gpu_wheels.sh in `.whl`:
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \\
        --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
    PYTHONUNBUFFERED=1 python3 tools/gpu_check.py --time-limit 540 --output $OUT/gpu_check.json
"""

import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time

TOOLS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(TOOLS_DIR)
REFERENCE = os.path.join(TOOLS_DIR, "gpu_check_reference.npz")
BACKENDS = ("jax", "torch")
SECTIONS = ("presets", "steps", "selection", "tests")
BACKBONES = ("pointnet", "dgcnn")
DTYPE_POLICIES = ("float32", "mixed_bfloat16")
SELECTION_METHODS = ("bisection", "bisection-per-sample", "sort", "top_k")
PRESET_TOLERANCE = 1e-2
PAPER_EPOCH_S = {"pointnet": 1.3, "dgcnn": 5.38}  # the paper's GPU epochs
SHAPES = 260
TEST_PATHS = ("tests/layers", "tests/models", "tests/presets")
# Sizes: (batch, points) per backbone; the selection's channels; repeats
# after warm-up.
FULL = {
    "sizes": {"pointnet": (128, 2048), "dgcnn": (32, 2048)},
    "channels": 1024,  # the pooling head's, as the selection sees them
    "warmup": 2,
    "repeats": 5,
    "pytest_k": None,
}
QUICK = {
    "sizes": {"pointnet": (4, 128), "dgcnn": (2, 128)},
    "channels": 64,
    "warmup": 1,
    "repeats": 2,
    # A fast subset: the selection's tests and loading the shipped presets.
    "pytest_k": "equals_numpy_sort_for_given_rank or shipped_presets_load",
}


# === Workers (each in its own subprocess) ===


def reference_clouds():
    """The 2 fixed clouds of 512 points the presets embed."""
    import numpy as np

    rng = np.random.default_rng(2026)
    return rng.uniform(-1, 1, (2, 512, 3)).astype("float32")


def preset_embeddings():
    """`{preset name: (2, 1024) global features}` of `reference_clouds`."""
    from keras_ttp.models import Backbone
    from keras_ttp.presets import list_presets
    from keras_ttp.presets import registry

    clouds = reference_clouds()
    embeddings = {}
    for name in list_presets():
        if registry.package_folder(name).is_dir():
            backbone = Backbone.from_preset(name)
            embeddings[name] = backbone.predict(clouds, verbose=0)["global_features"]
    return embeddings


def presets_worker(args):
    import numpy as np

    reference = np.load(REFERENCE)
    rows = []
    for name, embedding in preset_embeddings().items():
        embedding = np.asarray(embedding, "float32")
        if name not in reference:
            rows.append({"item": name, "status": "failed", "detail": "no reference"})
            continue
        expected = reference[name]
        deviation = float(np.max(np.abs(embedding - expected)) / np.max(np.abs(expected)))
        rows.append({
            "item": name,
            "status": "passed" if deviation <= PRESET_TOLERANCE else "failed",
            "relative_deviation": deviation,
            "detail": f"max|a-b|/max|b| = {deviation:.1e} (tolerance {PRESET_TOLERANCE:.0e})",
        })  # fmt: skip
    return rows


def steps_worker(args):
    """One row: the step of `args.backbone` under `args.dtype_policy`."""
    sys.path.insert(0, TOOLS_DIR)
    import benchmark

    batch_size, num_points = args.batch_size, args.num_points
    result = benchmark.keras_step(
        args.backbone, batch_size, num_points, args.warmup, args.repeats,
        "auto", components=False, dtype_policy=args.dtype_policy,
    )  # fmt: skip
    step = statistics.median(result["times"])
    epoch = step * (SHAPES // batch_size)
    return [{
        "item": f"{args.backbone} B={batch_size} N={num_points} {args.dtype_policy}",
        "status": "measured",
        "step_s": step,
        "epoch_s": epoch,
        "times_s": result["times"],
        "detail": f"step {step:.3f} s, epoch {epoch:.2f} s"
        + (f" (paper {PAPER_EPOCH_S[args.backbone]} s)" if args.paper_sizes else ""),
    }]  # fmt: skip


def selection_functions():
    """The library's key selection functions, wherever they live now."""
    import importlib

    for module in ("keras_ttp.ops.selection", "keras_ttp.layers.recycling_max_pooling"):
        try:
            found = importlib.import_module(module)
        except ImportError:
            continue
        names = ("kth_largest_key_by_bisection", "kth_largest_key_by_sort", "float32_keys")
        if all(hasattr(found, name) for name in names):
            return tuple(getattr(found, name) for name in names)
    raise ImportError("kth_largest_key_by_bisection / _by_sort / float32_keys not found")


def compiled(function):
    """`function` as the library's default compile runs it: XLA on jax and
    tensorflow, eager on torch."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.jit(function)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(function, jit_compile=True)
    return function


def selection_worker(args):
    """The `(rank + 1)`-th largest key of one pooling head `(B, C, N)`
    (rank N // 2, fixed so that top-k has a static k) by each method."""
    import numpy as np
    from keras import ops

    bisection, by_sort, float32_keys = selection_functions()
    batch_size, num_points = args.batch_size, args.num_points
    rank = num_points // 2
    shape = (batch_size, args.channels, num_points)
    features = np.random.default_rng(0).normal(size=shape)
    keys = float32_keys(ops.convert_to_tensor(features.astype("float32")))
    ranks = ops.full((batch_size,), rank, dtype="int32")

    def per_sample(keys, ranks):
        return ops.map(lambda s: bisection(s[0][None], s[1][None])[0], (keys, ranks))

    def top_k(keys, ranks):
        return ops.top_k(keys, k=rank + 1, sorted=True)[0][..., -1:]

    methods = {
        "bisection": bisection,
        "bisection-per-sample": per_sample,
        "sort": by_sort,
        "top_k": top_k,
    }
    sys.path.insert(0, TOOLS_DIR)
    import benchmark

    expected = None
    rows = []
    steps = SHAPES // batch_size
    for name, method in methods.items():
        item = f"{name} B={batch_size} C={args.channels} N={num_points}"
        try:
            function = compiled(method)
            run = lambda: ops.convert_to_numpy(function(keys, ranks))  # noqa: E731
            value = run()
            if expected is None:
                expected = ops.convert_to_numpy(by_sort(keys, ranks))
            times = benchmark.median_time(run, args.warmup, args.repeats)
        except Exception as error:  # a method the backend lacks is a failed row
            rows.append({"item": item, "status": "failed", "detail": error_summary(error)})
            continue
        seconds = statistics.median(times)
        agrees = bool(np.array_equal(np.reshape(value, expected.shape), expected))
        rows.append({
            "item": item,
            "status": "measured" if agrees else "failed",
            "call_s": seconds,
            "step_s": 2 * seconds,  # two views per step
            "epoch_s": 2 * seconds * steps,
            "agrees_with_sort": agrees,
            "detail": f"{1e3 * seconds:.2f} ms/call, epoch {2 * seconds * steps:.2f} s"
            + ("" if agrees else ", DISAGREES with sort"),
        })  # fmt: skip
    return rows


def environment_worker(args):
    """The backend's versions and the device it computes on."""
    import keras

    backend = keras.backend.backend()
    device = platform.processor() or platform.machine()
    versions = {"keras": keras.__version__}
    if backend == "jax":
        import jax

        versions["jax"] = jax.__version__
        device = f"{jax.devices()[0].platform}: {jax.devices()[0].device_kind}"
    elif backend == "torch":
        import torch

        versions["torch"] = torch.__version__
        if torch.cuda.is_available():
            device = f"cuda: {torch.cuda.get_device_name()}"
        else:
            device = "cpu"
    detail = f"{device}; " + ", ".join(f"{k} {v}" for k, v in versions.items())
    return [{"item": "environment", "status": "passed", "device": device,
             "versions": versions, "detail": detail}]  # fmt: skip


WORKERS = {
    "environment": environment_worker,
    "presets": presets_worker,
    "steps": steps_worker,
    "selection": selection_worker,
}


def error_summary(error):
    """`Type: first line of the message`, and the innermost keras_ttp frame
    it was raised through (the library's op that failed), if any."""
    import traceback

    message = str(error).strip()
    summary = f"{type(error).__name__}: {message.splitlines()[0][:200] if message else ''}"
    frames = [
        frame for frame in traceback.extract_tb(error.__traceback__)
        if f"{os.sep}keras_ttp{os.sep}" in frame.filename
    ]  # fmt: skip
    if frames:
        frame = frames[-1]
        where = frame.filename[frame.filename.rindex(f"{os.sep}keras_ttp{os.sep}") + 1 :]
        summary += f" (at {where}:{frame.lineno} in {frame.name})"
    return summary


# === The driver ===


def cpu_model():
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def subprocess_env(backend, **extra):
    path = os.environ.get("PYTHONPATH", "")
    return dict(
        os.environ,
        KERAS_BACKEND=backend,
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONPATH=REPO_ROOT + (os.pathsep + path if path else ""),
        **extra,
    )


def run_worker(section, backend, extra, timeout):
    """Rows of `--worker section` run on `backend`, or one failed or
    skipped row saying why there are none."""
    command = [sys.executable, os.path.abspath(__file__), "--worker", section, *extra]
    returncode, stdout, stderr = run_within(command, backend, timeout)
    if returncode is None:
        return [{"status": "skipped", "detail": f"stopped at the time limit ({timeout:.0f} s)"}]
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    if returncode != 0 or not lines:
        return [{"status": "failed", "detail": last_error_line(stderr)}]
    return json.loads(lines[-1][len("RESULT ") :])


def run_within(command, backend, timeout, **env):
    """`(returncode, stdout, stderr)` of `command` run on `backend`; the
    returncode is None when it ran past `timeout` seconds, and then it and
    every process it started (pytest's subprocesses, which could hold the
    GPU's memory) are killed. `env`: more environment variables."""
    process = subprocess.Popen(
        command, env=subprocess_env(backend, **env), cwd=REPO_ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=timeout)
        return process.returncode, stdout, stderr
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        return None, stdout, stderr


def last_error_line(stderr):
    """The exception line of a traceback in `stderr` (else its last line)."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception)\b", line)]
    return ((errors or lines or ["no output"])[-1])[:300]


PYTEST_OUTCOME = re.compile(r"::\S+ (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b")


def count_outcomes(output):
    """`{outcome: count}` of the lines of a `pytest -v` run's output."""
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    for match in PYTEST_OUTCOME.finditer(output):
        outcome = match.group(1).lower()
        outcome = {"xfail": "skipped", "xpass": "passed"}.get(outcome, outcome)
        counts[outcome] += 1
    return counts


def run_tests(backend, pytest_k, timeout):
    command = [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", *TEST_PATHS]
    if pytest_k:
        command += ["-k", pytest_k]
    # Tests start processes beside their own (the cross-backend tests): jax
    # then takes GPU memory as it needs it, not 75% of it up front.
    returncode, output, stderr = run_within(
        command, backend, timeout, XLA_PYTHON_CLIENT_PREALLOCATE="false"
    )
    finished = returncode is not None
    counts = count_outcomes(output)
    failing = re.findall(r"^(?:FAILED|ERROR) (\S+)", output, re.MULTILINE)
    detail = ", ".join(f"{n} {k}" for k, n in counts.items())
    if not finished:
        status = "skipped"
        detail += f" (stopped at the time limit, {timeout:.0f} s)"
    else:
        status = "passed" if counts["failed"] + counts["error"] == 0 else "failed"
        if not sum(counts.values()):
            status, detail = "failed", "no tests ran: " + last_error_line(output + stderr)
    if failing:
        detail += "; failing: " + " ".join(failing[:5])
    item = "pytest " + " ".join(TEST_PATHS) + (f" -k '{pytest_k}'" if pytest_k else "")
    return [{"item": item, "status": status, **counts, "failing": failing, "detail": detail}]


def plan(args, settings):
    """(section, backend, item, worker arguments) of every row, in order."""
    jobs = [("environment", backend, "environment", []) for backend in args.backends]
    repeats = ["--warmup", str(settings["warmup"]), "--repeats", str(settings["repeats"])]
    for section in args.sections:
        for backend in args.backends:
            if section in ("presets", "tests"):
                jobs.append((section, backend, section, []))
            elif section == "steps":
                for backbone in args.backbones:
                    batch_size, num_points = settings["sizes"][backbone]
                    for policy in args.dtype_policies:
                        extra = ["--backbone", backbone, "--batch-size", str(batch_size),
                                 "--num-points", str(num_points), "--dtype-policy", policy,
                                 *repeats]  # fmt: skip
                        extra += [] if args.quick else ["--paper-sizes"]
                        item = f"{backbone} B={batch_size} N={num_points} {policy}"
                        jobs.append((section, backend, item, extra))
            elif section == "selection":
                # The pooling heads of the backbones' steps (one per size).
                for size in sorted({settings["sizes"][b] for b in args.backbones}):
                    batch_size, num_points = size
                    extra = ["--batch-size", str(batch_size), "--num-points", str(num_points),
                             "--channels", str(settings["channels"]), *repeats]  # fmt: skip
                    item = f"selection B={batch_size} N={num_points}"
                    jobs.append((section, backend, item, extra))
    return jobs


def check(args):
    settings = QUICK if args.quick else FULL
    start = time.monotonic()
    deadline = start + args.time_limit
    rows = []
    for section, backend, item, extra in plan(args, settings):
        started = time.monotonic()
        left = deadline - started
        if left < args.min_seconds:
            found = [{"item": item, "status": "skipped", "detail": "no time left"}]
        elif section == "tests":
            found = run_tests(backend, settings["pytest_k"], left * args.tests_share)
        else:
            found = run_worker(section, backend, extra, left)
        for row in found:
            row = {"section": section, "backend": backend, "item": item, **row,
                   "worker_seconds": time.monotonic() - started}  # fmt: skip
            rows.append(row)
            print_row(row)
    return {
        "cpu": cpu_model(),
        "host": platform.node(),
        "quick": args.quick,
        "time_limit_s": args.time_limit,
        "elapsed_s": time.monotonic() - start,
        "preset_tolerance": PRESET_TOLERANCE,
        "paper_epoch_s": PAPER_EPOCH_S,
        "rows": rows,
    }


def print_row(row):
    print(
        f"{row['section']:10} {row['backend']:6} {row['item'][:44]:44} "
        f"{row['status']:8} {row.get('detail', '')}",
        flush=True,
    )


def record_reference():
    """Writes the presets' embeddings of `reference_clouds` on this machine."""
    import numpy as np

    embeddings = preset_embeddings()
    np.savez(REFERENCE, **{k: np.asarray(v, "float32") for k, v in embeddings.items()})
    return sorted(embeddings)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS))
    parser.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=SECTIONS)
    parser.add_argument("--backbones", nargs="+", default=list(BACKBONES), choices=BACKBONES)
    parser.add_argument(
        "--dtype-policies", nargs="+", default=list(DTYPE_POLICIES), choices=DTYPE_POLICIES
    )
    parser.add_argument("--quick", action="store_true", help="small sizes and a test subset")
    parser.add_argument("--time-limit", type=float, default=540, help="seconds, all included")
    parser.add_argument(
        "--tests-share", type=float, default=0.5,
        help="the share of the time left that one backend's test run may take",
    )  # fmt: skip
    parser.add_argument(
        "--min-seconds", type=float, default=5,
        help="a row is skipped when fewer seconds than this are left",
    )  # fmt: skip
    parser.add_argument("--output", help="write the table as JSON here")
    parser.add_argument(
        "--record-reference", action="store_true",
        help=f"record the presets' embeddings in {os.path.relpath(REFERENCE, REPO_ROOT)}",
    )  # fmt: skip
    # Worker arguments.
    parser.add_argument("--worker", choices=list(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--backbone", help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--num-points", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dtype-policy", help=argparse.SUPPRESS)
    parser.add_argument("--channels", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--paper-sizes", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        try:
            rows = WORKERS[args.worker](args)
        except Exception as error:  # reported as a failed row, e.g. under bf16
            import traceback

            traceback.print_exc()
            rows = [{"status": "failed", "detail": error_summary(error)}]
        print("RESULT " + json.dumps(rows), flush=True)
        return
    if args.record_reference:
        print("recorded", record_reference(), "in", REFERENCE)
        return
    print(f"{'section':10} {'backend':6} {'item':44} {'status':8} result", flush=True)
    result = check(args)
    print(f"CPU: {result['cpu']}; {result['elapsed_s']:.0f} s of {args.time_limit:.0f} s")
    if args.output:
        with open(args.output, "w") as file:
            json.dump(result, file, indent=1)


if __name__ == "__main__":
    main()
