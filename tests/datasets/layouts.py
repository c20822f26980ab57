"""Writers of small files in every documented data-set layout, for tests.

Each writer follows the published layout of its data set (file names, keys,
dtypes), independently of the readers under test.
"""

import json
import pathlib

import h5py
import numpy as np

from keras_ttp.datasets.ply import write_ply


def clouds(num_shapes, num_points, seed=0):
    """Random float32 clouds `(num_shapes, num_points, 3)`, not normalised."""
    rng = np.random.default_rng(seed)
    return rng.normal(2.0, 3.0, (num_shapes, num_points, 3)).astype("float32")


def write_h5(path, **arrays):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as file:
        for key, value in arrays.items():
            file.create_dataset(key, data=value)
    return path


def write_lines(path, lines):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def write_modelnet_h5(root, splits, class_names):
    """`modelnet40_ply_hdf5_2048`: `splits` maps a split to a list of
    `(data, label)` chunks, one `ply_data_<split><k>.h5` each, holding also
    the `normal` and `faceId` datasets of the official ModelNet40 files."""
    root = pathlib.Path(root)
    for split, chunks in splits.items():
        names = []
        for k, (data, label) in enumerate(chunks):
            write_h5(
                root / f"ply_data_{split}{k}.h5",
                data=data,
                label=np.asarray(label, "uint8").reshape(-1, 1),
                normal=np.ones_like(data),
                faceId=np.zeros(data.shape[:2], "int32"),
            )
            names.append(f"data/modelnet40_ply_hdf5_2048/ply_data_{split}{k}.h5")
        write_lines(root / f"{split}_files.txt", names)
    write_lines(root / "shape_names.txt", class_names)
    return root


def write_resampled(root, splits, class_names, num_classes=40):
    """`modelnet40_normal_resampled`: `splits` maps a split to a list of
    `(name, rows (N, 6))`, name like `chair_0001`."""
    root = pathlib.Path(root)
    write_lines(root / f"modelnet{num_classes}_shape_names.txt", class_names)
    for split, shapes in splits.items():
        for name, rows in shapes:
            path = root / name.rsplit("_", 1)[0] / f"{name}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savetxt(path, rows, fmt="%.6f", delimiter=",")
        write_lines(root / f"modelnet{num_classes}_{split}.txt", [n for n, _ in shapes])
    return root


def write_shapenet_ply(root, shapes, binary=True):
    """`<synset>/<id>.ply` for `shapes` `{synset: [cloud, ...]}`."""
    root = pathlib.Path(root)
    for synset, synset_clouds in shapes.items():
        (root / synset).mkdir(parents=True, exist_ok=True)
        for i, cloud in enumerate(synset_clouds):
            write_ply(root / synset / f"model{i:03d}.ply", cloud, binary=binary)
    return root


def write_shapenet55(root, splits):
    """Point-BERT's ShapeNet-55: `splits` maps a split to `[(synset, id,
    cloud)]`."""
    root = pathlib.Path(root)
    (root / "shapenet_pc").mkdir(parents=True, exist_ok=True)
    for split, shapes in splits.items():
        names = []
        for synset, shape_id, cloud in shapes:
            names.append(f"{synset}-{shape_id}.npy")
            np.save(root / "shapenet_pc" / names[-1], cloud)
        write_lines(root / "ShapeNet-55" / f"{split}.txt", names)
    return root


def write_off(path, vertices, faces, fused_header=False, comment=True):
    """An OFF mesh; `faces` is a list of index lists (any polygon size)."""
    counts = f"{len(vertices)} {len(faces)} 0"
    lines = [f"OFF{counts}"] if fused_header else ["OFF", counts]
    if comment:
        lines.insert(1, "# written by the keras-ttp tests")
    lines += [" ".join(f"{v:.9g}" for v in vertex) for vertex in vertices]
    lines += [" ".join(str(i) for i in [len(face), *face]) for face in faces]
    return write_lines(path, lines)


SCANOBJECTNN_FILES = {
    "OBJ_BG": "main_split/{}_objectdataset.h5",
    "OBJ_ONLY": "main_split_nobg/{}_objectdataset.h5",
    "PB_T50_RS": "main_split/{}_objectdataset_augmentedrot_scale75.h5",
}


def write_scanobjectnn(root, variant, split, data, label):
    """One ScanObjectNN h5 file (`data`, `label` `(n,)` and the background
    `mask` the official files hold)."""
    name = SCANOBJECTNN_FILES[variant].format("training" if split == "train" else "test")
    return write_h5(
        pathlib.Path(root) / name,
        data=data,
        label=np.asarray(label, "int64"),
        mask=np.zeros(data.shape[:2], "int64"),
    )


def write_modelnet40c(root, name, data, label):
    """`modelnet40_c/<name>.npy` and `label.npy` `(n, 1)`."""
    root = pathlib.Path(root)
    root.mkdir(parents=True, exist_ok=True)
    np.save(root / f"{name}.npy", data)
    np.save(root / "label.npy", np.asarray(label, "uint8").reshape(-1, 1))
    return root


def write_shapenetpart_txt(root, splits, categories):
    """`..._v0_normal`: `splits` maps a split to `[(synset, id, xyz (N, 3),
    parts (N,))]`; `categories` lines of `synsetoffset2category.txt`."""
    root = pathlib.Path(root)
    write_lines(root / "synsetoffset2category.txt", [f"{n}\t{s}" for n, s in categories])
    for split, shapes in splits.items():
        entries = []
        for synset, shape_id, xyz, parts in shapes:
            rows = np.concatenate([xyz, np.zeros_like(xyz), parts[:, None]], axis=1)
            path = root / synset / f"{shape_id}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savetxt(path, rows, fmt="%.6f")
            entries.append(f"shape_data/{synset}/{shape_id}")
        list_file = root / "train_test_split" / f"shuffled_{split}_file_list.json"
        list_file.parent.mkdir(parents=True, exist_ok=True)
        list_file.write_text(json.dumps(entries))
    return root


def write_shapenetpart_h5(root, splits):
    """`hdf5_data`: `splits` maps a split to `(data, label, pid)`."""
    root = pathlib.Path(root)
    for split, (data, label, pid) in splits.items():
        write_h5(
            root / f"ply_data_{split}0.h5",
            data=data,
            label=np.asarray(label, "uint8").reshape(-1, 1),
            pid=np.asarray(pid, "uint8"),
        )
        write_lines(root / f"{split}_hdf5_file_list.txt", [f"ply_data_{split}0.h5"])
    return root


def truncate(path, keep=0.5):
    """Cuts a file to a fraction of its bytes."""
    path = pathlib.Path(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def assert_normalised(points, atol=1e-5):
    """Every cloud centred on its centroid, its farthest point at 1."""
    points = np.asarray(points)
    np.testing.assert_allclose(points.mean(axis=-2), 0, atol=atol)
    np.testing.assert_allclose(np.linalg.norm(points, axis=-1).max(axis=-1), 1, atol=atol)
