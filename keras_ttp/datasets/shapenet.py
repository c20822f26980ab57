"""ShapeNet point sets: the ToThePoint PLY release and ShapeNet-55."""

import numpy as np

from keras_ttp.datasets.containers import PointCloudData
from keras_ttp.datasets.containers import stack_clouds
from keras_ttp.datasets.download import get_dataset_dir
from keras_ttp.datasets.frame import normalize_points
from keras_ttp.datasets.frame import z_up_to_y_up
from keras_ttp.datasets.ply import read_ply
from keras_ttp.datasets.validation import DataFormatError
from keras_ttp.datasets.validation import check_choice
from keras_ttp.datasets.validation import check_points
from keras_ttp.datasets.validation import read_list_file
from keras_ttp.datasets.validation import read_npy
from keras_ttp.datasets.validation import require_dir

# The 55 synsets of ShapeNetCore v2 and a short name for each.
SHAPENET_SYNSETS = {
    "02691156": "airplane", "02747177": "trash_bin", "02773838": "bag",
    "02801938": "basket", "02808440": "bathtub", "02818832": "bed",
    "02828884": "bench", "02843684": "birdhouse", "02871439": "bookshelf",
    "02876657": "bottle", "02880940": "bowl", "02924116": "bus",
    "02933112": "cabinet", "02942699": "camera", "02946921": "can",
    "02954340": "cap", "02958343": "car", "02992529": "cellphone",
    "03001627": "chair", "03046257": "clock", "03085013": "keyboard",
    "03207941": "dishwasher", "03211117": "display", "03261776": "earphone",
    "03325088": "faucet", "03337140": "file_cabinet", "03467517": "guitar",
    "03513137": "helmet", "03593526": "jar", "03624134": "knife",
    "03636649": "lamp", "03642806": "laptop", "03691459": "loudspeaker",
    "03710193": "mailbox", "03759954": "microphone", "03761084": "microwave",
    "03790512": "motorbike", "03797390": "mug", "03928116": "piano",
    "03938244": "pillow", "03948459": "pistol", "03991062": "pot",
    "04004475": "printer", "04074963": "remote_control", "04090263": "rifle",
    "04099429": "rocket", "04225987": "skateboard", "04256520": "sofa",
    "04330267": "stove", "04379243": "table", "04401088": "telephone",
    "04460130": "tower", "04468005": "train", "04530566": "watercraft",
    "04554684": "washer",
}  # fmt: skip


def check_synset(synset, source):
    if synset not in SHAPENET_SYNSETS:
        raise DataFormatError(
            f"{source}: {synset!r} is not one of the 55 ShapeNetCore synsets"
        )


def load_shapenet_ply(
    data_dir=None, num_points=None, seed=0, normalize=True, z_up=True
):
    """ShapeNet point sets as the ToThePoint authors release them:
    `<data_dir>/<synset>/<model_id>.ply` (binary or ascii PLY).

    The authors' files are z up: ShapeNet's y and z swapped (measured on the
    260 shapes: flat objects are thinnest along z, table tops lie at +z, and
    the two tables also in ShapeNetPart match it after the swap). With
    `z_up=True` they are turned y up by `z_up_to_y_up`; pass `z_up=False` for
    files already y up.

    The classes are the synset folders present, in sorted order. With
    `num_points=None` every file must hold the same number of points;
    otherwise each shape is resampled to `num_points` (seeded, see
    `stack_clouds`). Returns a `PointCloudData`.

    Example:
    >>> data = load_shapenet_ply("../shared/data/shapenet260")
    >>> data.points.shape, len(data.class_names)
    ((260, 2048, 3), 13)
    """
    data_dir = get_dataset_dir("shapenet260", data_dir)
    synsets = sorted(p.name for p in data_dir.iterdir() if p.is_dir())
    if not synsets:
        raise DataFormatError(f"{data_dir}: no <synset>/ folders")
    clouds, labels, files = [], [], []
    for label, synset in enumerate(synsets):
        check_synset(synset, data_dir / synset)
        paths = sorted((data_dir / synset).glob("*.ply"))
        if not paths:
            raise DataFormatError(f"{data_dir / synset}: no .ply files")
        for path in paths:
            clouds.append(read_ply(path))
            labels.append(label)
            files.append(f"{synset}/{path.name}")
    points, _ = stack_clouds(clouds, files, num_points, seed)
    if z_up:
        points = z_up_to_y_up(points)
    return shapenet_data(points, labels, synsets, files, normalize, data_dir)


def load_shapenet55(data_dir=None, split="train", num_points=None, seed=0, normalize=True):
    """ShapeNet-55 in the Point-BERT layout: `<data_dir>/shapenet_pc/
    <synset>-<model_id>.npy` (one `(8192, 3)` cloud each, y up) and the split
    lists `<data_dir>/ShapeNet-55/{train,test}.txt`.

    Labels index the 55 synsets of `SHAPENET_SYNSETS` in sorted order.
    Returns a `PointCloudData`.

    Example:
    >>> data = load_shapenet55("ShapeNet55-34", "test", num_points=1024)
    >>> data.points.shape
    (10518, 1024, 3)
    """
    check_choice(split, ("train", "test"), "split")
    data_dir = get_dataset_dir("shapenet55", data_dir)
    cloud_dir = require_dir(data_dir / "shapenet_pc", "ShapeNet-55 cloud folder")
    names = read_list_file(data_dir / "ShapeNet-55" / f"{split}.txt", "split list")
    synsets = sorted(SHAPENET_SYNSETS)
    clouds, labels = [], []
    for name in names:
        synset = name.split("-")[0]
        check_synset(synset, data_dir / "ShapeNet-55" / f"{split}.txt")
        clouds.append(check_points(read_npy(cloud_dir / name), cloud_dir / name, 2))
        labels.append(synsets.index(synset))
    points, _ = stack_clouds(clouds, names, num_points, seed)
    return shapenet_data(points, labels, synsets, names, normalize, cloud_dir)


def shapenet_data(points, labels, synsets, files, normalize, source):
    """A `PointCloudData` whose classes are `synsets`."""
    if normalize:
        points = normalize_points(points, source)
    return PointCloudData(
        points=points,
        labels=np.array(labels, "int32"),
        class_names=[SHAPENET_SYNSETS[s] for s in synsets],
        files=files,
    )

