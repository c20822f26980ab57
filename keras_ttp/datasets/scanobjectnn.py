"""ScanObjectNN (Uy et al., 2019) in its official HDF5 files."""

from keras_ttp.datasets.containers import PointCloudData
from keras_ttp.datasets.download import get_dataset_dir
from keras_ttp.datasets.frame import normalize_points
from keras_ttp.datasets.hdf5 import read_h5
from keras_ttp.datasets.validation import check_choice
from keras_ttp.datasets.validation import check_labels
from keras_ttp.datasets.validation import check_points

SCANOBJECTNN_CLASSES = [
    "bag", "bin", "box", "cabinet", "chair", "desk", "display", "door",
    "shelf", "table", "bed", "pillow", "sink", "sofa", "toilet",
]  # fmt: skip
# The three variants of the paper's main split: file name stem per variant.
SCANOBJECTNN_VARIANTS = {
    "OBJ_BG": "main_split/{split}_objectdataset.h5",
    "OBJ_ONLY": "main_split_nobg/{split}_objectdataset.h5",
    "PB_T50_RS": "main_split/{split}_objectdataset_augmentedrot_scale75.h5",
}


def load_scanobjectnn(data_dir=None, variant="PB_T50_RS", split="train", normalize=True):
    """ScanObjectNN's main split from its `h5_files` folder:
    `main_split/` (`OBJ_BG`, and `PB_T50_RS` in the
    `*_augmentedrot_scale75.h5` files) and `main_split_nobg/` (`OBJ_ONLY`),
    files `{training,test}_objectdataset*.h5` holding `data` `(n, 2048, 3)`
    and `label` `(n,)` in `SCANOBJECTNN_CLASSES`. The clouds are used in their
    stored frame, whose gravity axis is taken to be y as in PointNeXt's
    loader (`gravity_dim=1`); this was not checked on the real files, which
    are not available here. Returns a `PointCloudData`.

    Example:
    >>> data = load_scanobjectnn("h5_files", "PB_T50_RS", "test")
    >>> data.points.shape
    (2882, 2048, 3)
    """
    check_choice(variant, SCANOBJECTNN_VARIANTS, "variant")
    check_choice(split, ("train", "test"), "split")
    data_dir = get_dataset_dir("scanobjectnn", data_dir)
    file_split = "training" if split == "train" else "test"
    path = data_dir / SCANOBJECTNN_VARIANTS[variant].format(split=file_split)
    arrays = read_h5(path, ["data", "label"])
    points = check_points(arrays["data"], path, ndim=3)
    labels = check_labels(
        arrays["label"], len(SCANOBJECTNN_CLASSES), path, "the 15 classes", len(points)
    )
    if normalize:
        points = normalize_points(points, path)
    files = [f"{path.relative_to(data_dir)}[{i}]" for i in range(len(points))]
    return PointCloudData(points, labels, list(SCANOBJECTNN_CLASSES), files)
