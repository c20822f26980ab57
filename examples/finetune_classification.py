"""
Title: Fine-tuning a point-cloud classifier
Description: trains a `PointCloudClassifier` (encoder + MLP head) end to
end, from a randomly initialised encoder and, with `--preset`, from a
pre-trained one, with the same settings, and compares their test accuracy.

The protocol of the paper's Table 2, scaled down: the whole network is
trained with Adam (learning rate 1e-3) and sparse cross-entropy, every epoch
on a fresh random subset of `--num-points` points per shape. A validation
split carved from the train split (stratified, `--validation-fraction`)
picks the epoch whose weights are kept; the test split is scored once, at
the end, and picks nothing. From scratch, the validation accuracy may stay
at chance for the first epochs while the training accuracy rises (PointNet
in inference mode lags behind early in training); it catches up later.

By default the data are the built-in synthetic shapes (six classes of
primitive solids, generated, no download; not real objects). With
`--data-dir` pointing at a folder holding `modelnet10_ply_hdf5_2048/`,
ModelNet10.

    python examples/finetune_classification.py
    python examples/finetune_classification.py --preset runs/ttp_pointnet --epochs 20
    python examples/finetune_classification.py --data-dir ../shared/data --epochs 50
"""

import keras_ttp

import common  # examples/common.py

# === Settings (the paper's, scaled down for a CPU where noted) ===
SETTINGS = {
    "backbone": "pointnet",  # without --preset; or "dgcnn"
    "embedding_dim": 1024,  # without --preset
    "epochs": 10,  # the paper: 250
    "batch_size": 32,
    "num_points": 1024,
    "num_per_class": 40,  # synthetic shapes per class and split
    "validation_fraction": 0.2,  # of the train split
    "seed": 0,
}


def main():
    args, train, test, data = common.classification_setup(__doc__, SETTINGS)
    fit, validation = keras_ttp.evaluation.validation_split(
        train.labels, args.validation_fraction, args.seed
    )
    print(f"Data: {data}; {len(fit)} shapes to fit, {len(validation)} to "
          f"validate, {len(test)} to test")
    Dataset = keras_ttp.datasets.PointCloudDataset
    fit_data = Dataset(
        train.points[fit], train.labels[fit], args.batch_size, args.num_points,
        shuffle=True, drop_last=True, seed=args.seed,
    )  # fmt: skip
    # Validation and test: the first `num_points` points, the same every time.
    validation_data, test_data = (
        Dataset(points, labels, args.batch_size, args.num_points, shuffle=False,
                resample=False)
        for points, labels in [(train.points[validation], train.labels[validation]),
                               (test.points, test.labels)]
    )  # fmt: skip

    results = {}
    for name, backbone in common.backbones(args):
        print(f"--- {name}")
        classifier = keras_ttp.models.PointCloudClassifier(
            backbone, num_classes=len(train.class_names)
        )
        classifier.compile()  # Adam(1e-3), sparse cross-entropy, accuracy
        keep = keras_ttp.utils.KeepBestEpoch()  # restores the best epoch's weights
        classifier.fit(
            fit_data, validation_data=validation_data, epochs=args.epochs, callbacks=[keep]
        )
        test_accuracy = 100 * classifier.evaluate(test_data, return_dict=True)["accuracy"]
        print(f"Fine-tuned, {name}: {test_accuracy:.2f} % test accuracy (epoch "
              f"{keep.best_epoch}, {100 * keep.best:.2f} % validation accuracy)")
        results[name] = {
            "test_accuracy": test_accuracy,
            "best_epoch": keep.best_epoch,
            "validation_accuracy": 100 * keep.best,
        }
    common.finish(args, SETTINGS, data, {"fine_tuning": results})


if __name__ == "__main__":
    main()
