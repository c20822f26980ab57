from keras import ops


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
    every point is its own nearest neighbour, so it is included.
    """
    num_points = points.shape[1]
    if num_points is not None and num_points < k:
        raise ValueError(
            f"k-nearest neighbours needs at least k={k} points per cloud, "
            f"got {num_points}. Use more points or a smaller `k`."
        )
    # Distances in float32 even under mixed precision: the neighbour graph is
    # sensitive to rounding.
    distances = pairwise_squared_distance(ops.cast(points, "float32"))
    _, indices = ops.top_k(-distances, k, sorted=True)
    return indices


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
