"""ShapeNetPart (Yi et al., 2016): 16 object categories, 50 parts, in
PointNet++'s `..._v0_normal` text layout and PointNet's HDF5 layout (y up)."""

import json

import numpy as np

from keras_ttp.datasets.containers import PartSegmentationData
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
from keras_ttp.datasets.validation import require_file

# The standard table: category, ShapeNet synset, number of parts. Part ids
# are global and consecutive in this order (Airplane 0-3, ..., Table 47-49).
SHAPENETPART_TABLE = [
    ("Airplane", "02691156", 4), ("Bag", "02773838", 2),
    ("Cap", "02954340", 2), ("Car", "02958343", 4),
    ("Chair", "03001627", 4), ("Earphone", "03261776", 3),
    ("Guitar", "03467517", 3), ("Knife", "03624134", 2),
    ("Lamp", "03636649", 4), ("Laptop", "03642806", 2),
    ("Motorbike", "03790512", 6), ("Mug", "03797390", 2),
    ("Pistol", "03948459", 3), ("Rocket", "04099429", 3),
    ("Skateboard", "04225987", 3), ("Table", "04379243", 3),
]  # fmt: skip
SHAPENETPART_CLASSES = [name for name, _, _ in SHAPENETPART_TABLE]
SHAPENETPART_SYNSETS = [synset for _, synset, _ in SHAPENETPART_TABLE]
PART_OFFSETS = np.cumsum([0] + [n for _, _, n in SHAPENETPART_TABLE])
SHAPENETPART_PARTS = {
    name: list(range(PART_OFFSETS[i], PART_OFFSETS[i + 1]))
    for i, name in enumerate(SHAPENETPART_CLASSES)
}
NUM_PARTS = int(PART_OFFSETS[-1])
SPLITS = {"train": ["train"], "val": ["val"], "test": ["test"], "trainval": ["train", "val"]}


def check_parts(part_labels, labels, sources, source):
    """Returns the part labels as int32 after checking that every part id
    is a whole number among its shape's category's parts."""
    part_labels = np.asarray(part_labels)
    low = PART_OFFSETS[labels][:, None]
    high = PART_OFFSETS[labels + 1][:, None]
    wrong = np.argwhere(~((part_labels >= low) & (part_labels < high)))
    if len(wrong):
        shape, point = wrong[0]
        category = SHAPENETPART_CLASSES[labels[shape]]
        raise DataFormatError(
            f"{sources[shape]}: part label {part_labels[shape, point]} of point "
            f"{point} is outside the parts of {category} "
            f"{SHAPENETPART_PARTS[category]}"
        )
    return check_labels(part_labels, NUM_PARTS, source, "the 50 parts")


def load_shapenetpart(data_dir=None, split="train", num_points=2048, seed=0, normalize=True):
    """ShapeNetPart in PointNet++'s layout
    (`shapenetcore_partanno_segmentation_benchmark_v0_normal`):
    `<synset>/<id>.txt` with lines `x y z nx ny nz part` (normals dropped),
    `synsetoffset2category.txt`, and the split lists
    `train_test_split/shuffled_{train,val,test}_file_list.json` of entries
    `shape_data/<synset>/<id>`. `split` may also be `"trainval"`.

    The files hold different numbers of points: each shape is resampled to
    `num_points` (seeded, see `stack_clouds`), part labels alike. Returns a
    `PartSegmentationData`.

    Example:
    >>> data = load_shapenetpart("shapenetcore_partanno_segmentation_benchmark_v0_normal", "test")
    >>> data.points.shape, data.part_labels.shape
    ((2874, 2048, 3), (2874, 2048))
    """
    check_choice(split, SPLITS, "split")
    data_dir = get_dataset_dir("shapenetpart", data_dir)
    table = data_dir / "synsetoffset2category.txt"
    known = set(zip(SHAPENETPART_CLASSES, SHAPENETPART_SYNSETS))
    for line in read_list_file(table, "category table"):
        if tuple(line.split()) not in known:
            raise DataFormatError(
                f"{table}: {line!r} is not in the 16-category ShapeNetPart table"
            )
    entries = []
    for part in SPLITS[split]:
        list_file = data_dir / "train_test_split" / f"shuffled_{part}_file_list.json"
        entries += read_json_list(list_file)
    clouds, part_labels, labels, files = [], [], [], []
    for entry in entries:
        synset, shape_id = entry.split("/")[-2:]
        if synset not in SHAPENETPART_SYNSETS:
            raise DataFormatError(f"{entry}: synset {synset} is not a ShapeNetPart category")
        path = data_dir / synset / f"{shape_id}.txt"
        rows = read_text_table(path, 7)
        clouds.append(check_points(rows[:, :3], path))
        part_labels.append(rows[:, 6])
        labels.append(SHAPENETPART_SYNSETS.index(synset))
        files.append(f"{synset}/{shape_id}.txt")
    points, part_labels = stack_clouds(clouds, files, num_points, seed, part_labels)
    return segmentation_data(points, part_labels, labels, files, normalize, data_dir)


def read_json_list(path):
    """The non-empty list of a split JSON file."""
    path = require_file(path, "split list")
    try:
        entries = json.loads(path.read_text())
    except ValueError as error:
        raise DataFormatError(f"{path}: not a JSON list ({error})") from None
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise DataFormatError(f"{path}: expected a JSON list of strings")
    if not entries:
        raise DataFormatError(f"{path}: split list is empty")
    return entries


def load_shapenetpart_h5(data_dir=None, split="train", normalize=True):
    """ShapeNetPart in PointNet's HDF5 layout (`hdf5_data`):
    `{train,val,test}_hdf5_file_list.txt` list `ply_data_*.h5` files holding
    `data` `(n, 2048, 3)`, `label` `(n, 1)` (category, in
    `SHAPENETPART_CLASSES` order) and `pid` `(n, 2048)` (global part ids).
    `split` may also be `"trainval"`. Returns a `PartSegmentationData`.

    Example:
    >>> data = load_shapenetpart_h5("hdf5_data", "test")
    >>> data.part_labels.shape
    (2874, 2048)
    """
    check_choice(split, SPLITS, "split")
    data_dir = get_dataset_dir("shapenetpart_h5", data_dir)
    arrays = {"data": [], "label": [], "pid": []}
    files = []
    for part in SPLITS[split]:
        read, names = read_h5_split(
            data_dir, f"{part}_hdf5_file_list.txt", ["data", "label", "pid"]
        )
        for key in arrays:
            arrays[key].append(read[key])
        files += names
    arrays = {k: np.concatenate(v) for k, v in arrays.items()}
    labels = check_labels(
        arrays["label"], 16, data_dir, "the 16 ShapeNetPart categories", len(files)
    )
    if arrays["pid"].shape != arrays["data"].shape[:2]:
        raise DataFormatError(
            f"{data_dir}: 'pid' has shape {arrays['pid'].shape}, expected "
            f"{arrays['data'].shape[:2]} (one part id per point)"
        )
    return segmentation_data(
        arrays["data"], arrays["pid"], labels, files, normalize, data_dir
    )


def segmentation_data(points, part_labels, labels, files, normalize, source):
    labels = np.asarray(labels, "int32")
    part_labels = check_parts(part_labels, labels, files, source)
    if normalize:
        points = normalize_points(points, source)
    return PartSegmentationData(
        points=points,
        labels=labels,
        class_names=list(SHAPENETPART_CLASSES),
        files=files,
        part_labels=part_labels,
    )
