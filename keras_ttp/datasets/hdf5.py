"""Reading the arrays of the HDF5 layouts (PointNet, ScanObjectNN,
ShapeNetPart) with h5py, with errors that name the file."""

import pathlib

import h5py
import numpy as np

from keras_ttp.datasets.validation import DataFormatError
from keras_ttp.datasets.validation import check_num_rows
from keras_ttp.datasets.validation import check_points
from keras_ttp.datasets.validation import read_list_file
from keras_ttp.datasets.validation import require_file


def read_h5(path, keys):
    """Reads the datasets `keys` of an HDF5 file into numpy arrays.

    Example:
    >>> arrays = read_h5("modelnet10_ply_hdf5_2048/ply_data_test0.h5", ["data", "label"])
    >>> arrays["data"].shape
    (899, 2048, 3)
    """
    path = require_file(path, "HDF5 file")
    try:
        with h5py.File(path, "r") as file:
            missing = [k for k in keys if k not in file]
            if missing:
                raise DataFormatError(
                    f"{path}: no dataset {missing[0]!r} (it holds {sorted(file)})"
                )
            return {k: read_dataset(file[k], k, path) for k in keys}
    except DataFormatError:
        raise
    except (OSError, KeyError, RuntimeError, ValueError, TypeError) as error:
        # h5py reports a damaged file as any of these.
        raise DataFormatError(
            f"{path}: cannot read HDF5 file, truncated or corrupted? ({error})"
        ) from None


def read_dataset(dataset, key, path):
    """The array of an h5py dataset, after checking that an uncompressed
    one fits in the file (so a damaged shape allocates nothing)."""
    if not isinstance(dataset, h5py.Dataset):
        raise DataFormatError(f"{path}: {key!r} is not a dataset")
    size = dataset.size * dataset.dtype.itemsize
    compressed = dataset.id.get_create_plist().get_nfilters() > 0
    if not compressed and size > path.stat().st_size:
        raise DataFormatError(
            f"{path}: dataset {key!r} declares shape {dataset.shape} of "
            f"{dataset.dtype} ({size} bytes), more than the file's "
            f"{path.stat().st_size} bytes: truncated or corrupted?"
        )
    return np.asarray(dataset)


def read_h5_split(data_dir, list_file, keys):
    """Concatenates `keys` over the HDF5 files named in `list_file` (names
    as in the original archives, e.g. `data/<folder>/ply_data_train0.h5`,
    resolved in `data_dir`). Returns the arrays and the `file[row]` names."""
    arrays = {k: [] for k in keys}
    files = []
    for line in read_list_file(data_dir / list_file, "split list"):
        path = data_dir / pathlib.PurePosixPath(line).name
        read = read_h5(path, keys)
        read["data"] = check_points(read["data"], path, ndim=3)
        for key in keys:
            check_num_rows(read[key], len(read["data"]), path, f"rows of {key!r}")
            arrays[key].append(read[key])
        files += [f"{path.name}[{i}]" for i in range(len(read["data"]))]
    try:
        return {k: np.concatenate(v) for k, v in arrays.items()}, files
    except ValueError:
        shapes = {k: [a.shape for a in v] for k, v in arrays.items()}
        raise DataFormatError(
            f"{data_dir / list_file}: the files hold arrays of different "
            f"shapes {shapes}"
        ) from None
