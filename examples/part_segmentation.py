"""
Title: Part segmentation with a point-cloud encoder
Description: trains a `PointCloudSegmenter` (per-point head on [point
features, global feature, category one-hot]) from a randomly initialised
encoder and, with `--preset`, from a pre-trained one, and reports instance
mIoU, class mIoU and point accuracy on the test split.

The metrics are those of the paper's Table 5 (ShapeNetPart): each shape's
IoU is the mean over its category's parts (a part absent from prediction
and truth counts 1), the prediction being the best part of the shape's
known category; instance mIoU averages the shapes, class mIoU the
categories. The epoch whose weights are kept is chosen on validation data,
never on the test split.

Data. By default, a tiny labelled set built from the built-in synthetic
shapes (six primitive solids, generated, no download) with a geometric
rule: every category has two parts, the points above the shape's centre
(y > 0, y is up) and those below it. These are not real object parts, only
a check that the pipeline runs and learns; the validation data are carved
from the train split. With `--data-dir` pointing at ShapeNetPart (a folder
holding, or being, `shapenetcore_partanno_segmentation_benchmark_v0_normal/`
or the HDF5 release `hdf5_data/`): its 16 categories and 50 parts, its
official train, val and test splits.

    python examples/part_segmentation.py
    python examples/part_segmentation.py --preset runs/ttp_dgcnn --epochs 20
    python examples/part_segmentation.py --data-dir path/to/shapenetpart --epochs 50
"""

import os

import keras_ttp
from keras_ttp import datasets
from keras_ttp import evaluation

import common  # examples/common.py

# === Settings (scaled down for a CPU) ===
SETTINGS = {
    "backbone": "pointnet",  # without --preset; or "dgcnn"
    "embedding_dim": 1024,  # without --preset
    "epochs": 10,  # the paper: 250 (DGCNN) / 200 (PointNet)
    "batch_size": 16,
    "num_points": 1024,  # the paper: 2048
    "num_per_class": 20,  # synthetic shapes per class and split
    "validation_fraction": 0.2,  # of the synthetic train split
    "seed": 0,
}
LAYOUTS = {  # ShapeNetPart folder -> (file it holds, reader)
    "shapenetcore_partanno_segmentation_benchmark_v0_normal": (
        "synsetoffset2category.txt",
        lambda folder, split, n: datasets.load_shapenetpart(folder, split, n),
    ),
    "hdf5_data": (
        "train_hdf5_file_list.txt",
        lambda folder, split, n: datasets.load_shapenetpart_h5(folder, split),
    ),
}


def synthetic_parts(num_per_class, num_points, seed):
    """Synthetic shapes whose points are labelled by height: part `2c` below
    the centre, `2c + 1` above it, for category `c`."""
    data = datasets.make_synthetic_shapes(num_per_class, num_points, seed)
    upper = (data.points[..., 1] > 0).astype("int32")
    return data.points, data.labels, 2 * data.labels[:, None] + upper


def load_part_data(args):
    """`(splits, category_parts, description)`: `splits` maps train,
    validation and test to `(points, categories, parts)`; `category_parts`
    maps each category name to its part ids."""
    if args.data_dir is None:
        names = datasets.SYNTHETIC_CLASSES
        points, categories, parts = synthetic_parts(
            args.num_per_class, args.num_points, args.seed
        )
        fit, validation = evaluation.validation_split(
            categories, args.validation_fraction, args.seed
        )
        splits = {
            "train": (points[fit], categories[fit], parts[fit]),
            "validation": (points[validation], categories[validation], parts[validation]),
            "test": synthetic_parts(args.num_per_class, args.num_points, args.seed + 1),
        }
        category_parts = {name: (2 * c, 2 * c + 1) for c, name in enumerate(names)}
        return splits, category_parts, "synthetic shapes, parts by height (not real parts)"
    for name, (marker, reader) in LAYOUTS.items():
        for folder in (os.path.join(args.data_dir, name), args.data_dir):
            if os.path.isfile(os.path.join(folder, marker)):
                splits = {}
                for key, split in [("train", "train"), ("validation", "val"), ("test", "test")]:
                    data = reader(folder, split, args.num_points)
                    n = args.num_points
                    splits[key] = (data.points[:, :n], data.labels, data.part_labels[:, :n])
                description = (f"ShapeNetPart from {folder} ({len(splits['train'][0])} "
                               f"train / {len(splits['test'][0])} test shapes)")
                return splits, keras_ttp.evaluation.SHAPENET_PART_CATEGORIES, description
    raise FileNotFoundError(
        f"{args.data_dir} holds no ShapeNetPart folder: expected one of {sorted(LAYOUTS)} "
        "(or their contents)"
    )


def main():
    args = common.parse_args(__doc__, SETTINGS, "a ShapeNetPart folder (see above)")
    splits, category_parts, data = load_part_data(args)
    print(f"Data: {data}; " + ", ".join(f"{len(s[0])} {k}" for k, s in splits.items()))
    inputs = {
        key: ({"points": points, "category": categories}, parts)
        for key, (points, categories, parts) in splits.items()
    }
    results = {}
    for name, backbone in common.backbones(args):
        print(f"--- {name}")
        segmenter = keras_ttp.models.PointCloudSegmenter(
            backbone,
            num_parts=1 + max(max(p) for p in category_parts.values()),
            num_categories=len(category_parts),
        )
        segmenter.compile()  # Adam(1e-3), sparse cross-entropy, accuracy
        segmenter.fit(
            *inputs["train"],
            batch_size=args.batch_size,
            epochs=args.epochs,
            validation_data=inputs["validation"],
            callbacks=[keras_ttp.utils.KeepBestEpoch()],
        )
        x, parts = inputs["test"]
        logits = segmenter.predict(x, batch_size=args.batch_size)
        metrics = keras_ttp.evaluation.part_segmentation_metrics(
            logits, parts, x["category"], category_parts
        )
        print(f"Part segmentation, {name}: instance mIoU {metrics['instance_miou']:.2f} %, "
              f"class mIoU {metrics['class_miou']:.2f} %, accuracy {metrics['accuracy']:.2f} %")
        metrics.pop("shape_iou")
        results[name] = metrics
    common.finish(args, SETTINGS, data, {"part_segmentation": results})


if __name__ == "__main__":
    main()
