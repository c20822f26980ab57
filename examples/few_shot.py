"""
Title: Few-shot classification with frozen point-cloud features
Description: N-way K-shot episodes (5/10-way, 10/20-shot, 20 queries per
class) scored by a linear SVM on the frozen global features of a randomly
initialised encoder and, with `--preset`, a pre-trained one; mean +- std
over a fixed, seeded set of episodes.

The protocol of the paper's Table 4: every episode samples N classes, then
K support and 20 query shapes per class, all distinct; an SVM
(`SVC(kernel="linear", C=0.1)`) is fit on the support features and scored on
the query features. Every encoder sees the same episodes (`--seed`). Here
the episodes are drawn from one split (`--split`, default test), support
and queries disjoint; a pair the data cannot hold (10-way on the six
synthetic classes) is reported as skipped.

By default the data are the built-in synthetic shapes (six classes of
primitive solids, generated, no download; not real objects). With
`--data-dir` pointing at a folder holding `modelnet10_ply_hdf5_2048/`,
ModelNet10, 1024 points per shape.

    python examples/few_shot.py
    python examples/few_shot.py --data-dir ../shared/data --preset runs/ttp_pointnet
    python examples/few_shot.py --ways 5 --shots 10 --episodes 5   # quick
"""

import keras_ttp
from keras_ttp import workflows

import common  # examples/common.py

# === Settings (the paper's) ===
SETTINGS = {
    "backbone": "pointnet",  # without --preset; or "dgcnn"
    "embedding_dim": 1024,  # without --preset
    "num_points": 1024,
    "num_per_class": 40,  # synthetic shapes per class and split
    "ways": [5, 10],
    "shots": [10, 20],
    "queries": 20,  # query shapes per class and episode
    "episodes": 30,  # the paper: 30 runs
    "svm_c": 0.1,
    "batch_size": 32,
    "seed": 0,
}


def split_flag(parser):
    parser.add_argument(
        "--split", choices=["train", "test"], default="test",
        help="the split the episodes are drawn from",
    )  # fmt: skip


def main():
    args, train, test, data = common.classification_setup(
        __doc__, SETTINGS, extra=split_flag
    )
    pool = {"train": train, "test": test}[args.split]
    print(f"Data: {data}; episodes from the {args.split} split ({len(pool)} shapes)")
    results = {}
    for name, backbone in common.backbones(args):
        print(f"--- {name}")
        features = keras_ttp.evaluation.extract_embeddings(
            backbone, pool.points[:, : args.num_points], args.batch_size
        )
        results[name] = workflows.few_shot_table(
            features, pool.labels, args.ways, args.shots, args.queries,
            args.episodes, args.seed, args.svm_c,
        )  # fmt: skip
    common.finish(args, SETTINGS, data, {"split": args.split, "few_shot": results})


if __name__ == "__main__":
    main()
