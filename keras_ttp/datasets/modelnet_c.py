"""ModelNet40-C (Sun et al., 2022): the ModelNet40 test set under 15
corruptions at 5 severities, as `.npy` files."""

from keras_ttp.datasets.containers import PointCloudData
from keras_ttp.datasets.download import get_dataset_dir
from keras_ttp.datasets.frame import normalize_points
from keras_ttp.datasets.modelnet import MODELNET40_CLASSES
from keras_ttp.datasets.validation import check_choice
from keras_ttp.datasets.validation import check_labels
from keras_ttp.datasets.validation import check_points
from keras_ttp.datasets.validation import read_npy

MODELNET40C_CORRUPTIONS = [
    "occlusion", "lidar", "density_inc", "density", "cutout", "uniform",
    "gaussian", "impulse", "upsampling", "background", "rotation", "shear",
    "distortion", "distortion_rbf", "distortion_rbf_inv",
]  # fmt: skip


def load_modelnet40c(data_dir=None, corruption="original", severity=None, normalize=True):
    """ModelNet40-C from its `modelnet40_c` folder:
    `data_<corruption>_<severity>.npy` (`(2468, 1024, 3)`, severity 1 to 5),
    `data_original.npy` (the clean clouds, `corruption="original"`) and
    `label.npy` (`(2468, 1)`, in `MODELNET40_CLASSES`); y up.

    The benchmark's published numbers use the clouds as stored: pass
    `normalize=False` to compare with them.

    Example:
    >>> data = load_modelnet40c("modelnet40_c", "lidar", 3)
    >>> data.points.shape
    (2468, 1024, 3)
    """
    if corruption == "original":
        if severity is not None:
            raise ValueError("`corruption='original'` takes no severity")
        name = "data_original.npy"
    elif corruption in MODELNET40C_CORRUPTIONS:
        check_choice(severity, (1, 2, 3, 4, 5), "severity")
        name = f"data_{corruption}_{severity}.npy"
    else:
        check_choice(corruption, ["original", *MODELNET40C_CORRUPTIONS], "corruption")
    data_dir = get_dataset_dir("modelnet40_c", data_dir)
    points = check_points(read_npy(data_dir / name), data_dir / name, ndim=3)
    labels = check_labels(
        read_npy(data_dir / "label.npy"),
        len(MODELNET40_CLASSES),
        data_dir / "label.npy",
        "the 40 ModelNet40 classes",
        len(points),
    )
    if normalize:
        points = normalize_points(points, data_dir / name)
    files = [f"{name}[{i}]" for i in range(len(points))]
    return PointCloudData(points, labels, list(MODELNET40_CLASSES), files)
