from keras import ops

from keras_ttp.utils.compiling import compiling_with_xla


def last_axis_argmax(x):
    """`argmax(x, axis=-1)` as int32, ties to the first index, for `x`
    without NaN.

    Under XLA it is the first index holding the maximum (`first_true_index`
    after a `max`): XLA on this CPU runs argmax's (value, index) reduction
    1.8x (tensorflow) to 3.8x (jax) slower than these two plain reductions
    (one (1024, 2048) sample at a time, as the pooling heads run it;
    docs/benchmarks/2026-12-01-argmax.txt). Elsewhere `ops.argmax`, one
    pass."""
    if not compiling_with_xla(x):
        return ops.cast(ops.argmax(x, axis=-1), "int32")
    return first_true_index(x == ops.max(x, axis=-1, keepdims=True))


def first_true_index(mask):
    """Index of the first True along the last axis of the bool `mask`, as
    int32; the last index where there is none (which the callers rule
    out), so it is always a valid index. An int32 `min` over the positions
    where `mask` holds (jax's float `min`, which handles NaN, measured 4x
    slower)."""
    n = mask.shape[-1]
    positions = ops.arange(n, dtype="int32")
    return ops.min(ops.where(mask, positions, n - 1), axis=-1)
