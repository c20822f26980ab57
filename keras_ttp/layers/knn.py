import numpy as np
from keras import ops

from keras_ttp.utils.compiling import compiling_with_xla
from keras_ttp.utils.compiling import one_sample_at_a_time_under_xla


def pairwise_squared_distance(points):
    """Squared Euclidean distances `(batch, n, n)` between the rows of
    `points` `(batch, n, channels)`."""
    squared_norm = ops.sum(ops.square(points), axis=-1, keepdims=True)
    inner = ops.matmul(points, ops.transpose(points, (0, 2, 1)))
    return squared_norm - 2.0 * inner + ops.transpose(squared_norm, (0, 2, 1))


def knn(points, k):
    """Indices `(batch, n, k)` of the `k` nearest neighbours of every point.

    Distances are Euclidean, computed in whatever space `points`
    `(batch, n, channels)` lives in (coordinates or features). As in DGCNN,
    every point is its own nearest neighbour, so it is included. Under XLA
    the neighbours are picked by `smallest_k_indices`, one cloud at a time
    (`ops.map`), elsewhere by `top_k`; tensorflow's and jax's give the same
    indices (ties to the lower index), torch's may order tied distances
    differently.
    """
    num_points = points.shape[1]
    if num_points is not None and num_points < k:
        raise ValueError(
            f"k-nearest neighbours needs at least k={k} points per cloud, "
            f"got {num_points}. Use more points or a smaller `k`."
        )
    # Distances in float32 even under mixed precision: the neighbour graph is
    # sensitive to rounding.
    points = ops.cast(points, "float32")
    if num_points is not None and compiling_with_xla(points):
        # One cloud at a time: its (n, n) distances stay in the CPU's cache
        # for the selection (B=32 N=2048 k=20, alone: 1.1x to 2.2x faster
        # with tensorflow, 1.7x to 2.1x with jax;
        # docs/benchmarks/2026-12-01-channels-first-select.txt).
        return one_sample_at_a_time_under_xla(
            lambda cloud: smallest_k_indices(pairwise_squared_distance(cloud), k), points
        )
    _, indices = ops.top_k(-pairwise_squared_distance(points), k, sorted=True)
    return indices


def smallest_k_indices(values, k, group_size=32):
    """Indices `(..., k)` of the `k` smallest entries of every row of
    `values` `(..., n)` float32, smallest first, ties to the lower index:
    what `top_k(-values, k)` gives, for values without NaN (and with +inf
    counted as the largest finite float32).

    Under XLA on CPUs `top_k` sorts every row, and per-row costs dominate
    (B=32 N=2048 k=20: 0.44 s under tensorflow+XLA, 0.60 s under jax;
    docs/benchmarks/2026-12-01-knn-selection.txt). Here each row is cut into
    groups of `group_size`, and `k` times the smallest group minimum gives
    the next entry in (value, index) order; only the chosen group is read
    again, to update its minimum. Outside XLA `top_k` is the faster.
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
    # as one slice: `take_along_axis` gathered its entries one by one, and
    # the DGCNN step ran 1.1x slower under tensorflow+XLA
    # (docs/benchmarks/2026-12-02-knn-group-slice.txt).
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


def flat_neighbor_indices(indices, num_points):
    """`indices` `(batch, n, k)` into clouds of `num_points` points, as
    indices `(batch * n * k,)` into the batch's points flattened to
    `(batch * num_points, ...)`."""
    indices = ops.convert_to_tensor(indices)
    offsets = ops.arange(ops.shape(indices)[0], dtype=indices.dtype) * num_points
    return ops.reshape(ops.add(indices, ops.reshape(offsets, (-1, 1, 1))), (-1,))


def gather_neighbors(features, indices):
    """Gathers `features` `(batch, n, c)` at `indices` `(batch, n, k)`, giving
    `(batch, n, k, c)`."""
    shape = ops.shape(indices)
    channels = ops.shape(features)[-1]
    flat_indices = flat_neighbor_indices(indices, ops.shape(features)[1])
    flat_features = ops.reshape(features, (-1, channels))
    gathered = ops.take(flat_features, flat_indices, axis=0)
    return ops.reshape(gathered, (shape[0], shape[1], shape[2], channels))


def largest_neighbor(features, indices):
    """For every point and channel, the neighbour with the largest feature:
    `features` `(batch, n, c)`, `indices` `(batch, n, k)` into the cloud,
    giving the neighbour's index `(batch, n, c)`, ties to the neighbour
    listed first. This is `take_along_axis(indices, argmax(gather_neighbors(
    features, indices), axis=2), axis=2)`, computed one neighbour at a time
    as a running maximum: XLA fuses the `k` gathers and comparisons into one
    loop without a `(batch, n, k, c)` tensor, where its argmax over the
    middle axis ran 13x slower on this CPU (B=32, N=2048, k=20, c=256;
    docs/benchmarks/2026-12-01-largest-neighbor.txt). XLA's argmax also
    breaks ties differently."""
    channels = ops.shape(features)[-1]
    flat_features = ops.reshape(features, (-1, channels))
    flat_indices = ops.reshape(
        flat_neighbor_indices(indices, ops.shape(features)[1]), ops.shape(indices)
    )
    best_value = ops.take(flat_features, flat_indices[:, :, 0], axis=0)
    best = ops.broadcast_to(indices[:, :, :1], ops.shape(best_value))
    for j in range(1, indices.shape[-1]):
        value = ops.take(flat_features, flat_indices[:, :, j], axis=0)
        larger = value > best_value
        best_value = ops.where(larger, value, best_value)
        best = ops.where(larger, indices[:, :, j : j + 1], best)
    return best


def count_neighbors(indices, num_points):
    """How often each point of clouds of `num_points` points appears in
    `indices` `(batch, n, k)`: its in-degree in the kNN graph, `(batch,
    num_points)` float32."""
    batch_size = ops.shape(indices)[0]
    flat_indices = flat_neighbor_indices(indices, num_points)
    counts = ops.segment_sum(
        ops.ones(ops.shape(flat_indices), "float32"),
        flat_indices,
        num_segments=batch_size * num_points,
    )
    return ops.reshape(counts, (batch_size, num_points))
