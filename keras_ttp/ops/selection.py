"""Selections along an axis: argmax, the first True, the k-th largest, the
k smallest and the largest neighbour.

Each operation is one public function, and that function alone chooses its
formulation. All give the same indices as the plain computation (numpy's
`argmax`, a stable sort, `top_k`), ties to the first index. The choice:

- Outside XLA (eager tensorflow and jax, torch) the plain op (`argmax`,
  `top_k`, a sort) is used, except for the k-th largest on tensorflow and
  jax, which is a bisection in every mode.
- Under XLA on CPUs (`keras_ttp.ops.xla.compiling_with_xla`), XLA's
  argmax, sort and top-k run far slower than passes of comparisons and
  plain reductions, which it fuses and vectorises. So under XLA: argmax is
  a max then the first index holding it; the first True is found group
  by group; the k-th largest is a 32-step bisection on integer keys, each
  step a comparison and a count by a mat-vec; the k smallest are taken
  group minimum by group minimum; the largest neighbour is a running
  maximum over the k neighbours.
- On torch the k-th largest sorts the keys: its eager mode runs each
  bisection step as separate passes.

docs/performance.md gives the measurements behind each choice.
"""

import keras
import numpy as np
from keras import ops

from keras_ttp.ops.xla import compiling_with_xla
from keras_ttp.ops.xla import one_sample_at_a_time_under_xla


def last_axis_argmax(x):
    """`argmax(x, axis=-1)` as int32, ties to the first index, for `x`
    without NaN.

    Under XLA it is the first index holding the maximum (`first_true_index`
    after a `max`), two plain reductions; elsewhere `ops.argmax`."""
    if not compiling_with_xla(x):
        return ops.cast(ops.argmax(x, axis=-1), "int32")
    return first_true_index(x == ops.max(x, axis=-1, keepdims=True))


def first_true_index(mask, group_size=32):
    """Index of the first True along the last axis of the bool `mask`, as
    int32; the last index where there is none (which the callers rule
    out), so it is always a valid index. An int32 `min` over the positions
    where `mask` holds.

    Under XLA, for rows of a static length longer than `group_size` (and a
    multiple of it), the row is cut into groups: the first group holding a
    True is found from the groups' `any`, then the first True within that
    group alone, read as one slice (XLA turns an int32 `min` over long rows
    into a slow windowed reduction)."""
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
    """`first_true_index` as one int32 `min` over the whole row (of any
    length, static or not)."""
    n = mask.shape[-1]
    if n is None:
        n = ops.shape(mask)[-1]
    positions = ops.arange(n, dtype="int32")
    return ops.min(ops.where(mask, positions, n - 1), axis=-1)


def kth_largest_index(x, rank):
    """For every sample and channel of `x` `(batch, n, channels)`, the index
    along axis 1 of its `(rank + 1)`-th largest value; `rank` is a scalar or
    one per sample `(batch,)`. Ties go to the first point holding the value.

    The float32 values are mapped to int32 keys in the same order, and the
    `(rank + 1)`-th largest key found per channel: the exact value
    (`last_axis_kth_largest_index`). Under XLA the samples go one at a
    time (`ops.map`), so the keys and masks of the search exist for one
    sample at a time.
    """
    ranks = ops.broadcast_to(ops.cast(rank, "int32"), ops.shape(x)[:1])
    return one_sample_at_a_time_under_xla(
        lambda x, rank: last_axis_kth_largest_index(ops.transpose(x, (0, 2, 1)), rank),
        x,
        ranks,
    )


def last_axis_kth_largest_index(x, rank):
    """`kth_largest_index` for the whole batch at once, with the points
    last: `x` `(batch, channels, n)`.

    The one place where the k-th largest's method is chosen: on torch a
    sort of the keys (`kth_largest_key_by_sort`), on tensorflow and jax a
    bisection (`kth_largest_key_by_bisection`), whose steps XLA fuses and
    vectorises where its sort is slow. Both give the same key."""
    keys = float32_keys(x)
    if keras.backend.backend() == "torch":
        key = kth_largest_key_by_sort(keys, rank)
    else:
        key = kth_largest_key_by_bisection(keys, rank)
    return first_true_index(keys == key)


def kth_largest_key_by_bisection(keys, rank):
    """The `(rank + 1)`-th largest of the int32 `keys` `(batch, channels,
    n)` along the last axis, `(batch, channels, 1)`, by 32 bisection steps,
    each a comparison and a count over the keys."""
    needed = ops.reshape(ops.cast(rank, "int32") + 1, (-1, 1, 1))
    # At least `needed` keys are >= low, and the answer is <= high. The
    # whole int32 range takes the same 32 steps as the keys' own (min, max)
    # would, without two passes over the keys to find it.
    low = ops.full_like(keys[..., :1], np.iinfo("int32").min)
    high = ops.full_like(keys[..., :1], np.iinfo("int32").max)
    for _ in range(32):
        # ceil((low + high) / 2) without int32 overflow.
        middle = ops.bitwise_or(low, high) - ops.right_shift(
            ops.bitwise_xor(low, high), 1
        )
        enough = count_at_least(keys, middle) >= needed
        low = ops.where(enough, middle, low)
        high = ops.where(enough, high, middle - 1)
    return low


def kth_largest_key_by_sort(keys, rank):
    """`kth_largest_key_by_bisection` by sorting the keys."""
    n = ops.shape(keys)[-1]
    position = ops.reshape(n - 1 - ops.cast(rank, "int32"), (-1, 1, 1))
    position = ops.broadcast_to(position, ops.shape(keys)[:-1] + (1,))
    return ops.take_along_axis(ops.sort(keys, axis=-1), position, axis=-1)


def float32_keys(x):
    """int32 keys of `x` as float32 in the same order: larger float, larger
    key (-0.0 just below +0.0, NaNs beyond the infinities)."""
    bits = ops.view(ops.cast(x, "float32"), "int32")
    # Negative floats order backwards as integers: flip their magnitude bits.
    return ops.where(bits >= 0, bits, ops.bitwise_xor(bits, np.int32(0x7FFFFFFF)))


def count_at_least(keys, threshold):
    """How many of the `keys` `(..., n)` are `>= threshold` `(..., 1)`, as
    `(..., 1)` int32: a float mat-vec of the mask with a ones vector,
    which XLA runs in the BLAS rather than as an integer sum."""
    mask = keys >= threshold
    ones = ops.ones((ops.shape(keys)[-1], 1), dtype="float32")
    return ops.cast(ops.matmul(ops.cast(mask, "float32"), ones), "int32")


def smallest_k_indices(values, k, group_size=32):
    """Indices `(..., k)` of the `k` smallest entries of every row of
    `values` `(..., n)` float32, smallest first, ties to the lower index:
    what `top_k(-values, k)` gives, for values without NaN (and with +inf
    counted as the largest finite float32).

    Each row is cut into groups of `group_size`, and `k` times the
    smallest group minimum gives the next entry in (value, index) order;
    only the chosen group is read again, to update its minimum. `knn`
    uses it under XLA, where `top_k` sorts every row, and `top_k` elsewhere.
    """
    shape = ops.shape(values)
    n = values.shape[-1]  # static: XLA compiles fixed shapes
    values = ops.reshape(values, (-1, n))
    padding = -n % group_size
    if padding:  # never chosen: k <= n entries come first
        values = ops.pad(values, ((0, 0), (0, padding)), constant_values=np.inf)
    num_groups = (n + padding) // group_size
    groups = ops.reshape(values, (-1, num_groups, group_size))
    # +inf marks an emptied group, above every value (clamped when read).
    largest = np.finfo("float32").max
    group_min = ops.minimum(ops.min(groups, axis=-1), largest)
    group_ids = ops.arange(num_groups, dtype="int32")
    # A row's group `g` is row `row * num_groups + g` of `flat_groups`, read
    # as one slice (`take_along_axis` would gather its entries one by one).
    flat_groups = ops.reshape(groups, (-1, group_size))
    first_group = ops.arange(ops.shape(groups)[0], dtype="int32")[:, None] * num_groups
    positions = ops.arange(group_size, dtype="int32")
    # The last entry taken; the next one is the smallest after it.
    last_value = ops.full_like(group_min[:, :1], -np.inf)
    last_index = ops.full_like(last_value, -1, dtype="int32")
    indices = []
    for _ in range(k):
        value = ops.min(group_min, axis=-1, keepdims=True)
        group = ops.min(
            ops.where(group_min == value, group_ids, num_groups), axis=-1, keepdims=True
        )
        members = ops.take(flat_groups, (first_group + group)[:, 0], axis=0)
        members = ops.minimum(members, largest)
        member_index = group * group_size + positions
        after_last = ops.logical_or(
            members > last_value,
            ops.logical_and(members == last_value, member_index > last_index),
        )
        position = ops.min(
            ops.where(ops.logical_and(after_last, members == value), positions, group_size),
            axis=-1,
            keepdims=True,
        )
        last_value, last_index = value, group * group_size + position
        indices.append(last_index)
        rest = ops.where(ops.logical_and(after_last, positions != position), members, np.inf)
        group_min = ops.where(
            group_ids == group, ops.min(rest, axis=-1, keepdims=True), group_min
        )
    return ops.reshape(ops.concatenate(indices, axis=-1), (*shape[:-1], k))


def largest_neighbor(features, indices):
    """For every point and channel, the neighbour with the largest feature:
    `features` `(batch, n, c)`, `indices` `(batch, n, k)` into the cloud,
    giving the neighbour's index `(batch, n, c)`, ties to the neighbour
    listed first. This is `take_along_axis(indices, argmax(gather_neighbors(
    features, indices), axis=2), axis=2)`, computed one neighbour at a time
    as a running maximum, on every backend: XLA fuses the `k` gathers and
    comparisons into one loop without a `(batch, n, k, c)` tensor (and its
    argmax breaks ties differently)."""
    channels = ops.shape(features)[-1]
    flat_features = ops.reshape(features, (-1, channels))
    flat = ops.reshape(flat_indices(indices, ops.shape(features)[1]), ops.shape(indices))
    best_value = ops.take(flat_features, flat[:, :, 0], axis=0)
    best = ops.broadcast_to(indices[:, :, :1], ops.shape(best_value))
    for j in range(1, indices.shape[-1]):
        value = ops.take(flat_features, flat[:, :, j], axis=0)
        larger = value > best_value
        best_value = ops.where(larger, value, best_value)
        best = ops.where(larger, indices[:, :, j : j + 1], best)
    return best


def flat_indices(indices, num_points):
    """`indices` `(batch, ...)` into each sample's `num_points` rows, as
    indices `(batch * ...,)` into the batch's rows flattened to `(batch *
    num_points, ...)`.

    The offsets are added as a flat vector: Keras 3.15's tensorflow
    `ops.add` runs an addend with one non-unit axis as `tf.nn.bias_add`
    along axis 1 or the last axis, whichever has its length, so per-sample
    offsets `(batch, 1, 1)` landed on the wrong axis whenever the batch size
    equalled the number of neighbours or points."""
    indices = ops.convert_to_tensor(indices)
    flat = ops.reshape(indices, (-1,))
    per_sample = ops.size(flat) // ops.shape(indices)[0]
    sample = ops.arange(ops.size(flat), dtype=flat.dtype) // per_sample
    return ops.add(flat, sample * num_points)
