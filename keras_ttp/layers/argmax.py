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


def first_true_index(mask, group_size=32):
    """Index of the first True along the last axis of the bool `mask`, as
    int32; the last index where there is none (which the callers rule
    out), so it is always a valid index. An int32 `min` over the positions
    where `mask` holds (jax's float `min`, which handles NaN, measured 4x
    slower).

    Under XLA, for rows longer than `group_size` (and a multiple of it),
    the row is cut into groups: the first group holding a True is found
    from the groups' `any`, then the first True within that group alone,
    read as one slice. XLA on this CPU turns an int32 `min` over more than
    32 entries into a slow windowed reduction; this is 1.7x faster under
    tensorflow+XLA, 1.5x under jax, on (1024, 2048) masks
    (docs/benchmarks/2026-12-02-first-true-grouped.txt)."""
    n = mask.shape[-1]
    if n is None or n <= group_size or n % group_size or not compiling_with_xla(mask):
        return first_true_in_row(mask)
    shape = ops.shape(mask)
    num_groups = n // group_size
    groups = ops.reshape(mask, (-1, group_size))  # (rows * num_groups, group)
    group = first_true_in_row(ops.reshape(ops.any(groups, axis=-1), (-1, num_groups)))
    rows = ops.arange(ops.shape(group)[0], dtype="int32") * num_groups + group
    index = group * group_size + first_true_in_row(ops.take(groups, rows, axis=0))
    return ops.reshape(index, shape[:-1])


def first_true_in_row(mask):
    """`first_true_index` as one int32 `min` over the whole row."""
    n = mask.shape[-1]
    positions = ops.arange(n, dtype="int32")
    return ops.min(ops.where(mask, positions, n - 1), axis=-1)
