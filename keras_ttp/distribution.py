"""Data-parallel training on the engines that Keras 3 runs on.

Two engines, one model code path (docs/distributed.md):

- jax: Keras's distribution API, `keras.distribution.DataParallel` over a
  `DeviceMesh` (several processes joined by
  `keras.distribution.initialize`). The step is one program over the
  global batch that XLA shards: a mean over the batch axis, NT-Xent's
  similarity matrix and BatchNorm's moments are global by construction.
- tensorflow: `tf.distribute.MirroredStrategy` (one host) and
  `MultiWorkerMirroredStrategy` (several). Every replica runs the step on
  its slice of the global batch; what must see the whole batch asks the
  replica context for it, through the functions below. Outside a replica
  context with more than one replica they are the identity, so the same
  code runs on one device and on every backend.

Torch: Keras 3.15's distribution API has no torch implementation (its
`backend/torch` has no `distribution_lib`); use jax or tensorflow.
"""

import contextlib
import json
import os

import keras


def replica_context():
    """`(num_replicas, replica_id)` when this code runs on one replica of
    a tensorflow strategy with several replicas (inside `strategy.run`,
    e.g. a `fit` step under `strategy.scope()`); None otherwise (one
    device, jax, torch, or tensorflow's cross-replica context)."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context.num_replicas_in_sync, context.replica_id_in_sync_group


def num_replicas():
    """The number of tensorflow replicas that Keras divides a loss by
    (`keras.losses.Loss` scales by `1 / num_replicas` so that the summed
    gradients are those of the global mean); 1 on the other backends and
    without a strategy."""
    if keras.backend.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def unscale_loss(value):
    """A replica's loss as Keras's tensorflow trainer logs it: times the
    number of replicas, undoing `keras.losses.Loss`'s scaling."""
    replicas = num_replicas()
    return value if replicas == 1 else value * float(replicas)


def scale_loss(value):
    """A replica's share of a loss that it computed as a mean over its own
    slice (`add_loss` terms): divided by the number of replicas, as Keras
    scales its own losses, so that the summed gradients are the global
    mean's."""
    replicas = num_replicas()
    return value if replicas == 1 else value / float(replicas)


def gather_batch(*tensors):
    """Every replica's rows of `tensors` (leading batch axis), concatenated
    in replica order, and the offset of this replica's rows in them.

    On one tensorflow replica of several: each replica places its rows in
    zeros of the global shape and `ReplicaContext.all_reduce` sums them
    (an all-gather built from the all-reduce that Keras's synchronised
    BatchNormalization uses too: mixing tensorflow's `all_gather` with
    all-reduces in one step made the replicas' collectives disagree on
    their order). The gradient of a replica's rows is the sum over
    replicas of the gradients of the gathered tensor, sliced back to its
    rows, as with `all_gather`. A loss that each
    replica computes from its own rows against the gathered ones, divided
    as Keras divides it (by the local batch and the number of replicas),
    then gets, summed over replicas, the gradient of the single-device
    loss on the global batch. Otherwise `(tensors, 0)`.
    """
    context = replica_context()
    if context is None:
        return tensors, 0
    import tensorflow as tf

    local = tf.shape(tensors[0])[0]
    offset, size = _batch_offset_and_size(local)
    placed = [
        tf.pad(t, [[offset, size - offset - local]] + [[0, 0]] * (t.shape.rank - 1))
        for t in tensors
    ]
    return replica_sum(*placed), offset


def replica_sum(*tensors):
    """The sum over tensorflow replicas of each tensor (an all-reduce, whose
    gradient is also summed); the tensors themselves elsewhere."""
    if replica_context() is None:
        return tensors
    import tensorflow as tf

    return tuple(
        tf.distribute.get_replica_context().all_reduce("sum", list(tensors))
    )


def global_batch_draw(draw, shape):
    """`draw(shape)`, with `shape`'s first axis the batch axis; on one
    tensorflow replica of several, this replica's rows of `draw` over the
    global batch. Every replica's generator holds the same state, so the
    replicas draw the same global tensor and each takes its own rows:
    different numbers for every cloud, the same as one device drawing for
    the global batch."""
    if len(shape) == 0 or replica_context() is None:
        return draw(shape)
    offset, size = _batch_offset_and_size(shape[0])
    values = draw((size,) + tuple(shape[1:]))
    return values[offset : offset + shape[0]]


def _batch_offset_and_size(local_batch_size):
    """The offset of this replica's rows in the global batch and the global
    batch size (the replicas' batches may differ: the last one of an
    epoch)."""
    import tensorflow as tf

    replica = tf.distribute.get_replica_context()
    position = tf.one_hot(replica.replica_id_in_sync_group, replica.num_replicas_in_sync)
    (sizes,) = replica_sum(position * tf.cast(local_batch_size, "float32"))
    sizes = tf.cast(tf.round(sizes), "int32")
    offset = tf.reduce_sum(sizes[: replica.replica_id_in_sync_group])
    return offset, tf.reduce_sum(sizes)


def synchronize_batch_norm(model, synchronized=True):
    """Sets `synchronized` on every `keras.layers.BatchNormalization` of
    `model` (tensorflow only, as Keras's own argument): under a
    `tf.distribute` strategy, batch statistics are then computed over the
    global batch (an all-reduce per layer and step) instead of each
    replica's slice. The weights do not change; the flag is saved in the
    layers' configs. ToThePoint's pooled `Dense + BatchNorm` heads honour it
    too. Returns the number of layers set.

    Which statistics each engine uses: on jax under `DataParallel` always
    the global batch's (the program is global); on tensorflow, the
    replica's slice unless synchronised; on one device, the batch's.
    """
    if synchronized and keras.backend.backend() != "tensorflow":
        raise ValueError(
            "Synchronised BatchNormalization is a tensorflow option (under "
            "jax's DataParallel the statistics are already those of the "
            f"global batch); the backend is {keras.backend.backend()}."
        )
    count = 0
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = synchronized
            count += 1
    return count


def multi_worker_strategy():
    """The current tensorflow `MultiWorkerMirroredStrategy` when it spans
    several workers; None otherwise (another strategy, one worker, another
    backend)."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return None
    return strategy if strategy.extended._in_multi_worker_mode() else None


def multi_worker_logs(logs):
    """`logs`, a training or test step's, with every scalar given shape
    `(1,)` when the step runs under tensorflow's
    `MultiWorkerMirroredStrategy` with several workers; unchanged
    otherwise.

    Keras 3.15's tensorflow trainer reduces such a step's logs with
    `strategy.reduce("MEAN", value, axis=0)`, which fails on a scalar
    ("Invalid reduction dimension 0 for input with 0 dimensions",
    tensorflow/tensorflow#72388); on a `(1,)` value it is the mean over
    the replicas, a scalar again, as under `MirroredStrategy`."""
    if multi_worker_strategy() is None:
        return logs
    import tensorflow as tf

    return keras.tree.map_structure(
        lambda value: tf.reshape(value, [1]) if value.shape.rank == 0 else value,
        logs,
    )


class MultiWorkerLogs:
    """Mixin for `keras.Model` subclasses: their `train_step` and
    `test_step` logs go through `multi_worker_logs`, so that `fit` and
    `evaluate` run under `MultiWorkerMirroredStrategy`."""

    def train_step(self, *args, **kwargs):
        return multi_worker_logs(super().train_step(*args, **kwargs))

    def test_step(self, *args, **kwargs):
        return multi_worker_logs(super().test_step(*args, **kwargs))


def process_index_and_count():
    """`(index, count)` of this process among the training processes:
    jax's (after `keras.distribution.initialize`), or tensorflow's worker
    index and number of workers from `TF_CONFIG`; `(0, 1)` otherwise."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.process_index(), jax.process_count()
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    cluster = config.get("cluster", {})
    if backend != "tensorflow" or not cluster:
        return 0, 1
    task = config.get("task", {})
    workers = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    index = task.get("index", 0)
    if task.get("type") == "worker" and "chief" in cluster:
        index += 1
    return index, workers


def process_shard(data, index=None, count=None):
    """This process's shard of `data`: every `count`-th element from
    `index` (numpy arrays, lists of file names, a `tf.data.Dataset` of
    unbatched elements). `index` and `count` default to
    `process_index_and_count()`. The processes train in lockstep, so an
    array's or a list's last `len(data) % count` elements are left out and
    every shard has the same length; a `tf.data.Dataset`'s shards may
    differ by one element (batch it with `drop_remainder=True` and make
    sure the counts of batches agree). A `tf.data.Dataset` shard has
    tensorflow's auto-sharding turned off, so a strategy does not shard it
    again. Batch the shard with the per-process batch size, global batch
    size / number of processes, and give it to `fit` through
    `process_input`."""
    if index is None or count is None:
        index, count = process_index_and_count()
    if not 0 <= index < count:
        raise ValueError(f"Process index {index} is not in [0, {count}).")
    if hasattr(data, "shard") and hasattr(data, "element_spec"):
        import tensorflow as tf

        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.OFF
        )
        return data.shard(count, index).with_options(options)
    return data[index : len(data) - len(data) % count : count]


def process_input(dataset):
    """What `fit` should be given for this process's batches: `dataset`,
    this process's shard (`process_shard`) batched with `global batch /
    processes` clouds, a `tf.data.Dataset` or a `keras.utils.PyDataset`.

    Under tensorflow's `MultiWorkerMirroredStrategy` with several workers:
    a `tf.distribute.DistributedDataset`
    (`strategy.distribute_datasets_from_function`) in which the process's
    replicas take equal consecutive parts of each of its batches, and
    which tensorflow neither shards nor rebatches again (given the process's
    dataset itself, it would treat each batch as a global one and split it
    over every worker's replicas). The global batch of a step is then
    process 0's batch, then process 1's, and so on. Every process must
    yield the same number of batches (`process_shard` of an array gives
    equal shards; drop a last partial batch).

    Otherwise `dataset` itself: jax's `DataParallel` assembles the global
    batch from the processes' batches, `MirroredStrategy` splits a batch
    over the host's devices."""
    strategy = multi_worker_strategy()
    if strategy is None:
        return dataset
    if not hasattr(dataset, "element_spec"):
        dataset = _tf_dataset(dataset)

    def replica_batches(context):
        local_replicas = context.num_replicas_in_sync // context.num_input_pipelines
        if local_replicas == 1:
            return dataset
        return dataset.rebatch(_local_batch_size(dataset) // local_replicas)

    return strategy.distribute_datasets_from_function(replica_batches)


def _tf_dataset(py_dataset):
    """A `keras.utils.PyDataset`'s batches, in order, as a
    `tf.data.Dataset` (`on_epoch_end` called after the last one)."""
    import numpy as np
    import tensorflow as tf

    first = py_dataset[0]
    signature = keras.tree.map_structure(
        lambda a: tf.TensorSpec((None,) + np.shape(a)[1:], np.asarray(a).dtype),
        first,
    )

    def batches():
        for i in range(len(py_dataset)):
            yield py_dataset[i]
        py_dataset.on_epoch_end()

    dataset = tf.data.Dataset.from_generator(batches, output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(len(py_dataset)))


def _local_batch_size(dataset):
    import tensorflow as tf

    size = tf.get_static_value(
        tf.data.experimental.cardinality(dataset.take(1).unbatch())
    )
    if size is None or size <= 0:
        size = len(list(dataset.take(1).unbatch()))
    return int(size)


@contextlib.contextmanager
def data_parallel(multi_worker=False, devices=None):
    """A context in which models are created, compiled and fit
    data-parallel, on the current backend's engine:

    - jax: sets `keras.distribution.DataParallel(devices)` (every device of
      every process by default) as the distribution, and restores the
      previous one on exit. Call `keras.distribution.initialize(...)`
      first when there are several processes.
    - tensorflow: enters the scope of `MirroredStrategy(devices)`, or of
      `MultiWorkerMirroredStrategy()` (configured by `TF_CONFIG`) with
      `multi_worker=True`; yields the strategy.
    - torch: raises, Keras 3.15 has no torch distribution.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        previous = keras.distribution.distribution()
        distribution = keras.distribution.DataParallel(devices=devices)
        keras.distribution.set_distribution(distribution)
        try:
            yield distribution
        finally:
            keras.distribution.set_distribution(previous)
    elif backend == "tensorflow":
        import tensorflow as tf

        if multi_worker:
            strategy = tf.distribute.MultiWorkerMirroredStrategy()
        else:
            strategy = tf.distribute.MirroredStrategy(devices)
        with strategy.scope():
            yield strategy
    else:
        raise ValueError(
            "Keras 3.15 has no data-parallel engine for the torch backend "
            "(keras.distribution is implemented for jax only); use the jax "
            "backend (keras.distribution.DataParallel) or tensorflow "
            f"(tf.distribute). The backend is {backend}."
        )
