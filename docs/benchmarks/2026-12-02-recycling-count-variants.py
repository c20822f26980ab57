"""Recycling's bisection with other ways of counting the keys at or above
the threshold (tried and not adopted, 2026-12-02): the float32 mask times a
ones vector (what `count_at_least` does), the same in float16 (exact for
counts up to 2048), bfloat16 and int8 (tensorflow matmuls with float32 or
int32 output), and plain float32 and int32 sums. Tensorflow+XLA, one
(1024, 2048) sample at a time, B=32, the full 32-step bisection:

    python docs/benchmarks/2026-12-02-recycling-count-variants.py [names]

Prints whether each gives the indices of the first, then the median of 3
calls after 1 warm-up, twice in alternation.
"""
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from keras_ttp.layers.argmax import first_true_index  # noqa: E402
from tests.test_case import xla_compiled  # noqa: E402

def to_keys(x):
    bits = ops.view(ops.cast(x, "float32"), "int32")
    return ops.where(bits >= 0, bits, ops.bitwise_xor(bits, np.int32(0x7FFFFFFF)))
def mid(low, high):
    return ops.bitwise_or(low, high) - ops.right_shift(ops.bitwise_xor(low, high), 1)

def c_f32(keys, t):
    ones = ops.ones((keys.shape[-1], 1), "float32")
    return ops.cast(ops.matmul(ops.cast(keys >= t, "float32"), ones), "int32")
def c_f16(keys, t):
    ones = ops.ones((keys.shape[-1], 1), "float16")
    return ops.cast(ops.matmul(ops.cast(keys >= t, "float16"), ones), "int32")
def c_bf16(keys, t):
    m = tf.cast(keys >= t, tf.bfloat16)
    ones = tf.ones((keys.shape[-1], 1), tf.bfloat16)
    return tf.cast(tf.linalg.matmul(m, ones, output_type=tf.float32), tf.int32)
def c_i8(keys, t):
    m = tf.cast(keys >= t, tf.int8)
    ones = tf.ones((keys.shape[-1], 1), tf.int8)
    return tf.linalg.matmul(m, ones, output_type=tf.int32)
def c_sumf(keys, t):
    return ops.cast(ops.sum(ops.cast(keys >= t, "float32"), axis=-1, keepdims=True), "int32")
def c_sumi(keys, t):
    return ops.sum(ops.cast(keys >= t, "int32"), axis=-1, keepdims=True)

def bisect(count):
    def f(x, rank):
        keys = to_keys(x)
        needed = ops.reshape(ops.cast(rank, "int32") + 1, (-1, 1, 1))
        low = ops.full_like(keys[..., :1], np.iinfo("int32").min)
        high = ops.full_like(keys[..., :1], np.iinfo("int32").max)
        for _ in range(32):
            middle = mid(low, high)
            enough = count(keys, middle) >= needed
            low = ops.where(enough, middle, low)
            high = ops.where(enough, high, middle - 1)
        return first_true_index(keys == low)
    return f

def per_sample(select):
    return xla_compiled(lambda x, r: ops.map(lambda s: select(s[0][None], s[1][None])[0], (x, r)))

B = 32
features = np.random.default_rng(0).normal(size=(B, 1024, 2048)).astype("float32")
features[:, :, 100:400] = features[:, :, :1]
x = ops.convert_to_tensor(features)
ranks = ops.convert_to_tensor(np.random.default_rng(1).integers(1, 2048, (B,)).astype("int32"))
allv = {n: per_sample(bisect(globals()["c_" + n])) for n in ["f32", "f16", "bf16", "i8", "sumf", "sumi"]}
names = sys.argv[1:] or list(allv)
variants = {n: allv[n] for n in names}
ref = None
for n, f in variants.items():
    try:
        out = ops.convert_to_numpy(f(x, ranks))
        if ref is None: ref = out
        print(n, "same:", np.array_equal(ref, out), flush=True)
    except Exception as e:
        print(n, "ERR", str(e)[:300]); variants[n] = None
for _ in range(2):
    for name, f in variants.items():
        if f is None: continue
        times = []
        for _ in range(3):
            s = time.perf_counter(); ops.convert_to_numpy(f(x, ranks)); times.append(time.perf_counter() - s)
        print(f"{name:8s} median {statistics.median(times):.3f} {[round(t,3) for t in times]}", flush=True)
