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


def gather_neighbors(features, indices):
    """Gathers `features` `(batch, n, c)` at `indices` `(batch, n, k)`, giving
    `(batch, n, k, c)`."""
    indices = ops.convert_to_tensor(indices)
    shape = ops.shape(indices)
    batch_size, num_points, k = shape[0], shape[1], shape[2]
    channels = ops.shape(features)[-1]
    offsets = ops.arange(batch_size, dtype=indices.dtype) * ops.shape(features)[1]
    flat_indices = ops.reshape(
        ops.add(indices, ops.reshape(offsets, (-1, 1, 1))), (-1,)
    )
    flat_features = ops.reshape(features, (-1, channels))
    gathered = ops.take(flat_features, flat_indices, axis=0)
    return ops.reshape(gathered, (batch_size, num_points, k, channels))
