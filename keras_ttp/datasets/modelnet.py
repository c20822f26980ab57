"""ModelNet in the community point-set layouts: PointNet's HDF5 files and
PointNet++'s `modelnet40_normal_resampled` text files (both y up)."""

import numpy as np

from keras_ttp.datasets.containers import PointCloudData
from keras_ttp.datasets.containers import stack_clouds
from keras_ttp.datasets.download import get_dataset_dir
from keras_ttp.datasets.frame import normalize_points
from keras_ttp.datasets.hdf5 import read_h5_split
from keras_ttp.datasets.validation import DataFormatError
from keras_ttp.datasets.validation import check_choice
from keras_ttp.datasets.validation import check_labels
from keras_ttp.datasets.validation import check_points
from keras_ttp.datasets.validation import read_list_file
from keras_ttp.datasets.validation import read_text_table

MODELNET40_CLASSES = [
    "airplane", "bathtub", "bed", "bench", "bookshelf", "bottle", "bowl",
    "car", "chair", "cone", "cup", "curtain", "desk", "door", "dresser",
    "flower_pot", "glass_box", "guitar", "keyboard", "lamp", "laptop",
    "mantel", "monitor", "night_stand", "person", "piano", "plant", "radio",
    "range_hood", "sink", "sofa", "stairs", "stool", "table", "tent",
    "toilet", "tv_stand", "vase", "wardrobe", "xbox",
]  # fmt: skip
MODELNET10_CLASSES = [
    "bathtub", "bed", "chair", "desk", "dresser", "monitor", "night_stand",
    "sofa", "table", "toilet",
]  # fmt: skip


def load_modelnet_h5(data_dir=None, split="train", normalize=True):
    """ModelNet in the PointNet HDF5 layout (`modelnet40_ply_hdf5_2048`):
    `{train,test}_files.txt` list the `ply_data_*.h5` files, each holding
    `data` `(n, 2048, 3)` and `label` `(n, 1)`; `shape_names.txt` is the
    class table. Reads ModelNet10 and ModelNet40 folders alike. Returns a
    `PointCloudData`.

    Example:
    >>> data = load_modelnet_h5("../shared/data/modelnet10_ply_hdf5_2048", "test")
    >>> data.points.shape, len(data.class_names)
    ((899, 2048, 3), 10)
    """
    check_choice(split, ("train", "test"), "split")
    data_dir = get_dataset_dir("modelnet40_ply_hdf5_2048", data_dir)
    class_names = read_list_file(data_dir / "shape_names.txt", "class table")
    arrays, files = read_h5_split(data_dir, f"{split}_files.txt", ["data", "label"])
    list_file = data_dir / f"{split}_files.txt"
    labels = check_labels(
        arrays["label"], len(class_names), list_file, "shape_names.txt", len(files)
    )
    points = arrays["data"]
    if normalize:
        points = normalize_points(points, data_dir)
    return PointCloudData(points, labels, class_names, files)


def load_modelnet_resampled(
    data_dir=None, split="train", num_classes=40, num_points=None, seed=0,
    normalize=True,
):  # fmt: skip
    """ModelNet in PointNet++'s `modelnet40_normal_resampled` layout:
    `modelnet{10,40}_shape_names.txt`, split lists `modelnet{10,40}_{train,
    test}.txt` of names like `chair_0001`, and `<class>/<name>.txt` with
    lines `x,y,z,nx,ny,nz` (10,000 points; normals are dropped).

    With `num_points`, the first `num_points` lines of each file are read,
    as PointNet++ does (the files are already in random order). Returns a
    `PointCloudData`.

    Example:
    >>> data = load_modelnet_resampled("modelnet40_normal_resampled", "test", num_points=1024)
    >>> data.points.shape
    (2468, 1024, 3)
    """
    check_choice(split, ("train", "test"), "split")
    check_choice(num_classes, (10, 40), "num_classes")
    data_dir = get_dataset_dir("modelnet40_normal_resampled", data_dir)
    prefix = data_dir / f"modelnet{num_classes}"
    class_names = read_list_file(f"{prefix}_shape_names.txt", "class table")
    list_file = f"{prefix}_{split}.txt"
    clouds, labels, files = [], [], []
    for name in read_list_file(list_file, "split list"):
        class_name = name.rsplit("_", 1)[0]
        if class_name not in class_names:
            raise DataFormatError(
                f"{list_file}: class {class_name!r} of {name!r} is outside "
                f"the class table {prefix.name}_shape_names.txt"
            )
        path = data_dir / class_name / f"{name}.txt"
        table = read_text_table(path, 6, ",", max_rows=num_points)
        clouds.append(check_points(table[:, :3], path))
        labels.append(class_names.index(class_name))
        files.append(f"{class_name}/{name}.txt")
    points, _ = stack_clouds(clouds, files, num_points, seed)
    if normalize:
        points = normalize_points(points, data_dir)
    return PointCloudData(points, np.array(labels, "int32"), class_names, files)
