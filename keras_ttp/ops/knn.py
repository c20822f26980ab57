"""The k-nearest-neighbour graph of point clouds (in coordinate or feature
space), and gathers over it."""

from keras import ops

from keras_ttp.ops.selection import flat_indices
from keras_ttp.ops.selection import smallest_k_indices
from keras_ttp.ops.xla import compiling_with_xla
from keras_ttp.ops.xla import one_sample_at_a_time_under_xla


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
        # for the selection.
        return one_sample_at_a_time_under_xla(
            lambda cloud: smallest_k_indices(pairwise_squared_distance(cloud), k), points
        )
    _, indices = ops.top_k(-pairwise_squared_distance(points), k, sorted=True)
    return indices


def gather_neighbors(features, indices):
    """Gathers `features` `(batch, n, c)` at `indices` `(batch, n, k)`, giving
    `(batch, n, k, c)`."""
    shape = ops.shape(indices)
    channels = ops.shape(features)[-1]
    flat = flat_indices(indices, ops.shape(features)[1])
    flat_features = ops.reshape(features, (-1, channels))
    gathered = ops.take(flat_features, flat, axis=0)
    return ops.reshape(gathered, (shape[0], shape[1], shape[2], channels))


def count_neighbors(indices, num_points):
    """How often each point of clouds of `num_points` points appears in
    `indices` `(batch, n, k)`: its in-degree in the kNN graph, `(batch,
    num_points)` float32."""
    batch_size = ops.shape(indices)[0]
    flat = flat_indices(indices, num_points)
    counts = ops.segment_sum(
        ops.ones(ops.shape(flat), "float32"),
        flat,
        num_segments=batch_size * num_points,
    )
    return ops.reshape(counts, (batch_size, num_points))
