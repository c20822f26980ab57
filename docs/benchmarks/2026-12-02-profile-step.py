"""Where a ToThePoint pre-training step's time goes under tensorflow + XLA:
profiles one step (after 2 warm-up steps) with tensorflow's profiler and
prints the time of XLA's kernels ("thunks"), summed over the CPU's threads
and grouped by the tensorflow op they were compiled from:

    python docs/benchmarks/2026-12-02-profile-step.py dgcnn [top]
    python docs/benchmarks/2026-12-02-profile-step.py pointnet [top]

The thunk -> op names come from XLA's optimised HLO, dumped to a temporary
directory. Thread times overlap in wall time (two threads here) and the
profiler slows the step, so compare the rows with each other. Found this
way: kNN's member gather emitted float by float
(docs/benchmarks/2026-12-02-knn-group-slice.txt).
"""

import collections
import glob
import os
import re
import sys
import tempfile

dump = tempfile.mkdtemp()
os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["XLA_FLAGS"] = (
    f"--xla_dump_to={dump} --xla_dump_hlo_as_text --xla_dump_hlo_pass_re=NONE"
)
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402

import keras_ttp  # noqa: E402

backbone = sys.argv[1]
top = int(sys.argv[2]) if len(sys.argv) > 2 else 40
keras.utils.set_random_seed(0)
if backbone == "dgcnn":
    encoder, batch_size = keras_ttp.models.DGCNN(), 32
else:
    encoder, batch_size = keras_ttp.models.PointNet(), 128
model = keras_ttp.models.ToThePoint(encoder, seed=0)
model.compile(jit_compile=True)
x = np.random.default_rng(0).normal(size=(batch_size, 2048, 3)).astype("float32")
for _ in range(2):
    model.train_on_batch(x)
logdir = tempfile.mkdtemp()
tf.profiler.experimental.start(logdir)
model.train_on_batch(x)
tf.profiler.experimental.stop()

# The step's module: the largest optimised HLO dump.
hlo_path = max(glob.glob(f"{dump}/*cpu_after_optimizations.txt"), key=os.path.getsize)
hlo = open(hlo_path).read()
op_names = {}
for match in re.finditer(r"^\s*(?:ROOT )?%([\w.\-]+) = .*?op_name=\"([^\"]*)\"", hlo, re.M):
    op_names[match.group(1)] = match.group(2)
# Fusions without metadata of their own: the op of the computation they call.
for match in re.finditer(r"%([\w.\-]+) = \S+ fusion\(.*?calls=%([\w.\-]+)", hlo):
    if match.group(1) not in op_names:
        body = re.search(
            r"^%?" + re.escape(match.group(2)) + r" .*?\{(.*?)^\}", hlo, re.M | re.S
        )
        name = body and re.search(r'op_name="([^"]*)"', body.group(1))
        if name:
            op_names[match.group(1)] = name.group(1)
        elif body and (reducer := re.search(r"to_apply=%([\w\-]+)", body.group(1))):
            # A windowed reduction carries no metadata; its reducer is named
            # after the op.
            op_names[match.group(1)] = "reducer " + reducer.group(1)

space = xplane_pb2.XSpace()
space.ParseFromString(open(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True)[0], "rb").read())
plane = next(p for p in space.planes if p.name == "/host:CPU")
names = {key: value.name for key, value in plane.event_metadata.items()}
step_seconds = 0.0
totals = collections.Counter()
for line in plane.lines:
    for event in line.events:
        name = names.get(event.metadata_id, "?")
        if name == "one_step_on_data":
            step_seconds = event.duration_ps / 1e12
        if not line.name.startswith("tf_numa") or name.startswith(("ThunkExecutor", "Slinky")):
            continue
        kind = re.sub(r"\.\d+$", "", name)
        # One row per op, whatever the layer's or loop iteration's number.
        op = re.sub(r"\d+", "#", re.sub(r"_\d+(/|$)", r"\1", op_names.get(name, "?")))
        totals[(kind, op)] += event.duration_ps / 1e12
print(f"{backbone} step under the profiler: {step_seconds:.2f} s; "
      f"thunks, summed over threads: {sum(totals.values()):.2f} s")  # fmt: skip
for (kind, op), seconds in totals.most_common(top):
    print(f"{seconds:7.3f} s  {kind:34s} {op}")
