"""Data-parallel training steps against single-device ones, each run in a
process of its own (`python -m tests.distribution.checks NAME`), because
the devices must be configured before the engine starts: jax's
`XLA_FLAGS=--xla_force_host_platform_device_count`, tensorflow's logical
CPUs or `TF_CONFIG`. Prints one line `RESULT <json>` with the largest
absolute differences; tests/distribution/test_data_parallel.py asserts
on them.
"""

import json
import os
import sys

GLOBAL_BATCH = 8
POINTS = 16
STEPS = 2


def configure(name):
    backend = "jax" if name.startswith("jax") else "tensorflow"
    os.environ["KERAS_BACKEND"] = backend
    if backend == "jax":
        os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    elif not name.startswith("tf_multi_worker"):
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )


def data():
    import numpy as np

    rng = np.random.default_rng(0)
    points = rng.uniform(-1, 1, (STEPS * GLOBAL_BATCH, POINTS, 3)).astype("float32")
    labels = rng.integers(0, 3, STEPS * GLOBAL_BATCH).astype("int32")
    return points, labels


def pretrainer(gather_negatives=True, synchronized=False, learning_rate=0.1):
    import keras

    from keras_ttp.distribution import synchronize_batch_norm
    from keras_ttp.models import PointNet
    from keras_ttp.models import ToThePoint

    keras.utils.set_random_seed(0)
    model = ToThePoint(
        PointNet(embedding_dim=32, feature_transform_regularization=1e-3),
        projection_dims=(32, 16),
        seed=0,
        gather_negatives=gather_negatives,
    )
    if synchronized:
        synchronize_batch_norm(model)
    # SGD: the update is the gradient's (Adam's first step is its sign).
    # No XLA on either side: XLA is off under a strategy (compiling.py).
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9),
        jit_compile=False,
    )
    return model


def classifier(synchronized=False):
    import keras

    from keras_ttp.distribution import synchronize_batch_norm
    from keras_ttp.models import PointCloudClassifier
    from keras_ttp.models import PointNet

    keras.utils.set_random_seed(0)
    # Keras's Dropout draws its masks per replica on tensorflow: left out.
    model = PointCloudClassifier(
        PointNet(embedding_dim=32), num_classes=3, hidden_dims=(16,), dropout=0.0
    )
    if synchronized:
        synchronize_batch_norm(model)
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9))
    return model


def train(model, points, labels=None, steps=1, batch_size=GLOBAL_BATCH):
    """`steps` steps of `fit` on `points` (arrays or a batched
    `tf.data.Dataset`) in order; the logs (averaged over the steps, as
    `fit` logs) and the weights after them."""
    history = model.fit(
        points,
        labels,
        batch_size=None if hasattr(points, "element_spec") else batch_size,
        steps_per_epoch=steps,
        epochs=1,
        shuffle=False,
        verbose=0,
    )
    logs = {k: float(v[-1]) for k, v in history.history.items()}
    return logs, [w for w in model.get_weights()]


def differences(reference, other):
    import numpy as np

    logs_a, weights_a = reference
    logs_b, weights_b = other
    return {
        "logs": {k: abs(logs_a[k] - logs_b[k]) for k in logs_a},
        "weights": max(
            float(np.max(np.abs(a - b))) for a, b in zip(weights_a, weights_b)
        ),
        "weight_scale": max(float(np.max(np.abs(a))) for a in weights_a),
        "reference_logs": logs_a,
        "distributed_logs": logs_b,
        "num_weights": len(weights_a),
    }


def same_start(make, distributed_scope):
    """A model made on one device, and one made in `distributed_scope` with
    the same weights."""
    reference = make()
    with distributed_scope():
        distributed = make()
    return reference, distributed


def check_pretraining(name):
    """One ToThePoint step data-parallel against one on one device."""
    from keras_ttp.distribution import data_parallel

    points, _ = data()
    points = points[:GLOBAL_BATCH]
    synchronized = name.startswith("tf")
    results = {}
    reference = pretrainer(synchronized=synchronized)
    reference.build(points.shape)
    start = reference.get_weights()
    single = train(reference, points)
    with data_parallel() as engine:
        distributed = pretrainer(synchronized=synchronized)
        distributed.build(points.shape)
        distributed.set_weights(start)
        results["replicas"] = replica_count(engine)
        parallel = train(distributed, points)
        if name.startswith("tf"):
            # In the same strategy: a second one in the process would reuse
            # the first one's collective keys.
            per_replica = pretrainer(gather_negatives=False, synchronized=True)
            per_replica.build(points.shape)
            per_replica.set_weights(start)
            logs, _ = train(per_replica, points)
            results["per_replica_loss"] = logs["loss"]
            results["edge_conv"] = check_edge_conv(engine)
    results.update(differences(single, parallel))
    return results


def check_edge_conv(strategy):
    """EdgeConv (memory-saving path) with synchronised BatchNorm in
    training: the largest difference, output and moving statistics,
    between each replica's rows and the one-device layer's on the global
    batch."""
    import numpy as np
    import tensorflow as tf

    from keras_ttp.layers import EdgeConv

    points = data()[0][:GLOBAL_BATCH]
    local = GLOBAL_BATCH // strategy.num_replicas_in_sync

    def layer():
        edge_conv = EdgeConv(8, k=4)
        edge_conv.build(points.shape)
        edge_conv.batch_norm.synchronized = True
        return edge_conv

    reference = layer()
    start = reference.get_weights()
    expected = np.asarray(reference(points, training=True))
    with strategy.scope():
        distributed = layer()
        distributed.set_weights(start)
    inputs = strategy.experimental_distribute_values_from_function(
        lambda context: tf.constant(
            points[context.replica_id_in_sync_group * local :][:local]
        )
    )
    outputs = strategy.run(lambda x: distributed(x, training=True), args=(inputs,))
    got = np.concatenate([np.asarray(o) for o in strategy.experimental_local_results(outputs)])
    moving = [
        float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
        for a, b in zip(
            (reference.batch_norm.moving_mean, reference.batch_norm.moving_variance),
            (distributed.batch_norm.moving_mean, distributed.batch_norm.moving_variance),
        )
    ]
    return max([float(np.max(np.abs(got - expected)))] + moving)


def check_fine_tuning(name):
    """One PointCloudClassifier step data-parallel against one device."""
    from keras_ttp.distribution import data_parallel

    points, labels = data()
    points, labels = points[:GLOBAL_BATCH], labels[:GLOBAL_BATCH]
    synchronized = name.startswith("tf")
    reference = classifier(synchronized)
    start = reference.get_weights()
    single = train(reference, points, labels)
    with data_parallel() as engine:
        distributed = classifier(synchronized)
        distributed.set_weights(start)
        replicas = replica_count(engine)
        parallel = train(distributed, points, labels)
    return {"replicas": replicas, **differences(single, parallel)}


def replica_count(engine):
    if hasattr(engine, "num_replicas_in_sync"):
        return engine.num_replicas_in_sync
    return len(engine.device_mesh.devices.flatten())


def check_multi_worker(name):
    """Worker `index` of 2 (MultiWorkerMirroredStrategy over loopback,
    `TF_CONFIG` set by the caller) trains 2 steps on its shard; worker 0
    also trains the same steps on one device on the global batches."""
    import numpy as np
    import tensorflow as tf

    from keras_ttp.distribution import data_parallel
    from keras_ttp.distribution import process_index_and_count
    from keras_ttp.distribution import process_input
    from keras_ttp.distribution import process_shard

    index, count = process_index_and_count()
    points, _ = data()
    # Step s's global batch is process 0's s-th local batch, then process
    # 1's: the order in which the replicas' rows are gathered.
    local_batch = GLOBAL_BATCH // count
    shards = [process_shard(points, i, count) for i in range(count)]
    global_order = np.concatenate(
        [
            np.concatenate([s[k * local_batch : (k + 1) * local_batch] for s in shards])
            for k in range(STEPS)
        ]
    )
    with data_parallel(multi_worker=True):
        # Two steps: a rate at which the single-device run stays finite.
        distributed = pretrainer(synchronized=True, learning_rate=1e-3)
        distributed.build(points.shape)
        start = distributed.get_weights()
        # This process's shard only, in batches of the per-process size.
        shard = process_shard(tf.data.Dataset.from_tensor_slices(points))
        batches = process_input(shard.batch(local_batch))
        logs, weights = train(distributed, batches, steps=STEPS)
    result = {"index": index, "logs": logs, "weights": [w.tolist() for w in weights]}
    if index == 0:
        reference = pretrainer(synchronized=True, learning_rate=1e-3)
        reference.build(points.shape)
        reference.set_weights(start)
        result["reference"] = differences(
            train(reference, global_order, steps=STEPS), (logs, weights)
        )
    return result


CHECKS = {
    "jax_pretraining": check_pretraining,
    "tf_pretraining": check_pretraining,
    "jax_fine_tuning": check_fine_tuning,
    "tf_fine_tuning": check_fine_tuning,
    "tf_multi_worker": check_multi_worker,
}


if __name__ == "__main__":
    name = sys.argv[1]
    configure(name)
    print("RESULT " + json.dumps(CHECKS[name](name)), flush=True)
