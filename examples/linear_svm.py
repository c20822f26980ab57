"""
Title: Linear-SVM evaluation of frozen point-cloud features
Description: embeds every shape with a frozen encoder (its max-pooled
global feature) and scores a linear SVM (C = 0.1) fit on the train split,
for a randomly initialised encoder and, with `--preset`, a pre-trained one.

This is the protocol of the paper's Table 3: the encoder is never trained
here, the SVM sees the train split only, and the test split is scored once.
`C` is fixed in advance (`--svm-c`), or chosen among `--svm-c 0.01 0.1 1` on
a validation split carved from the train split
(`keras_ttp.evaluation.select_svm_c`); the test split never picks anything.

By default the data are the built-in synthetic shapes (six classes of
primitive solids, generated, no download; not real objects). With
`--data-dir` pointing at a folder holding `modelnet10_ply_hdf5_2048/`, the
official ModelNet10 train and test splits, 1024 points per shape.

    python examples/linear_svm.py                          # random init only
    python examples/linear_svm.py --preset runs/ttp_pointnet
    python examples/linear_svm.py --data-dir ../shared/data --preset runs/ttp_pointnet
"""

import keras_ttp

import common  # examples/common.py

# === Settings (the paper's) ===
SETTINGS = {
    "backbone": "pointnet",  # without --preset; or "dgcnn"
    "embedding_dim": 1024,  # without --preset
    "num_points": 1024,  # points per shape, the first of the stored ones
    "num_per_class": 40,  # synthetic shapes per class and split
    "svm_c": [0.1],  # several values: chosen on a validation split of train
    "batch_size": 32,
    "seed": 0,
}


def main():
    args, train, test, data = common.classification_setup(__doc__, SETTINGS)
    print(f"Data: {data}")
    n = args.num_points
    C = args.svm_c[0] if len(args.svm_c) == 1 else args.svm_c
    results = {}
    for name, backbone in common.backbones(args):
        result = keras_ttp.evaluation.evaluate_linear_svm(
            backbone,
            train.points[:, :n],
            train.labels,
            test.points[:, :n],
            test.labels,
            C=C,
            batch_size=args.batch_size,
        )
        print(f"Linear SVM, {name} (C={result['C']}): {result['accuracy']:.2f} %")
        results[name] = result
    common.finish(args, SETTINGS, data, {"linear_svm": results})


if __name__ == "__main__":
    main()
