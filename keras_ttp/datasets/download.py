"""Finding a data set on disk, or downloading its official archive once.

Where a reader looks when it is given no `data_dir`, first match wins:

1. `$KERAS_TTP_DATA_DIR/<folder>`: a local copy always wins;
2. a previous download, extracted under `<cache>/keras_ttp/<archive name>/`,
   where `<cache>` is `cache_dir`, else `$KERAS_TTP_DATA_DIR`, else the Keras
   cache (`$KERAS_HOME/datasets`, by default `~/.keras/datasets`);
3. a download of the official archive with `keras.utils.get_file`, checked
   against its checksum where one is known (`Archive.file_hash`; the comment
   above `ARCHIVES` says which archives have none). The host can be
   replaced by a mirror: `base_url=` or `$KERAS_TTP_DATA_URL` (the archive's
   file name is appended).

A download that fails its checksum or does not hold the data set's folder is
deleted before the error is raised, so the cache never keeps a broken copy.
A download that cannot reach its host (offline) raises a `ConnectionError`
that names the folder to create, or the `data_dir` to pass, instead.
"""

import dataclasses
import http.client
import os
import pathlib
import shutil
import urllib.error
import urllib.parse

import keras

from keras_ttp.datasets.validation import DataFormatError
from keras_ttp.datasets.validation import require_dir

COMPLETE_MARKER = ".keras_ttp_complete"


@dataclasses.dataclass(frozen=True)
class Archive:
    """Where a data set is published.

    Attributes:
        folder: the data set's folder, inside the archive and in
            `$KERAS_TTP_DATA_DIR`.
        url: the official archive, or `None` when it can only be obtained
            by hand (then `note` says how).
        file_hash: its sha256 (or md5) where one is published.
        note: how to obtain the data by hand.
    """

    folder: str
    url: str = None
    file_hash: str = None
    note: str = ""


STANFORD = "https://shapenet.cs.stanford.edu/media"
# Checksums: where one is published, the download is checked against it. The
# sha256s of the two ModelNet40 archives are the ones tensorflow_graphics pins
# (tensorflow_graphics/datasets/modelnet40/checksums/model_net40.txt, with
# sizes 435212151 and 2039180837 bytes); the md5 of ModelNet40-C is the one
# Zenodo lists for record 6017834 (1970686633 bytes). No checksum was found
# published for ModelNet10.zip, modelnet40_normal_resampled.zip and the two
# ShapeNetPart archives: those downloads are not checked.
ARCHIVES = {
    "shapenet260": Archive(
        "shapenet260",
        note="the 260 ShapeNet shapes the ToThePoint authors pre-train on "
        "(the `ShapeNetLess` folder of their code release)",
    ),
    "shapenet55": Archive(
        "ShapeNet55-34",
        note="ShapeNet-55 as prepared by Point-BERT (see its DATASET.md)",
    ),
    "modelnet40_ply_hdf5_2048": Archive(
        "modelnet40_ply_hdf5_2048",
        f"{STANFORD}/modelnet40_ply_hdf5_2048.zip",
        "07670e237db72ece0f723b9abb571534c9ad655a6456b389646587dc72bb8bae",
    ),
    "modelnet40_normal_resampled": Archive(
        "modelnet40_normal_resampled",
        f"{STANFORD}/modelnet40_normal_resampled.zip",
    ),
    "ModelNet10": Archive(
        "ModelNet10",
        "http://3dvision.princeton.edu/projects/2014/3DShapeNets/ModelNet10.zip",
    ),
    "ModelNet40": Archive(
        "ModelNet40",
        "http://modelnet.cs.princeton.edu/ModelNet40.zip",
        "42dc3e656932e387f554e25a4eb2cc0e1a1bd3ab54606e2a9eae444c60e536ac",
    ),
    "scanobjectnn": Archive(
        "h5_files",
        note="ScanObjectNN is shared after accepting its terms of use at "
        "https://hkust-vgd.github.io/scanobjectnn/ (the `h5_files` folder)",
    ),
    "modelnet40_c": Archive(
        "modelnet40_c",
        "https://zenodo.org/record/6017834/files/modelnet40_c.zip",
        "c4a7fffaa52c80b33f7b3a0ac7782d3b",
    ),
    "shapenetpart": Archive(
        "shapenetcore_partanno_segmentation_benchmark_v0_normal",
        f"{STANFORD}/shapenetcore_partanno_segmentation_benchmark_v0_normal.zip",
    ),
    "shapenetpart_h5": Archive(
        "hdf5_data", f"{STANFORD}/shapenet_part_seg_hdf5_data.zip"
    ),
}


def default_cache_dir():
    """`$KERAS_TTP_DATA_DIR` if set, else the Keras cache's `datasets`
    folder (`$KERAS_HOME/datasets`, by default `~/.keras/datasets`)."""
    if os.environ.get("KERAS_TTP_DATA_DIR"):
        return pathlib.Path(os.environ["KERAS_TTP_DATA_DIR"]).expanduser()
    keras_home = os.environ.get("KERAS_HOME", os.path.join("~", ".keras"))
    return pathlib.Path(keras_home).expanduser() / "datasets"


def get_dataset_dir(name, data_dir=None, download=True, cache_dir=None, base_url=None):
    """The local folder of data set `name` (a key of `ARCHIVES`).

    `data_dir`, when given, is returned as is and must exist. Otherwise the
    folder is looked up, then downloaded, as the module docstring says.

    Example:
    >>> path = get_dataset_dir("modelnet40_ply_hdf5_2048")  # doctest: +SKIP
    >>> path.relative_to(default_cache_dir())  # doctest: +SKIP
    PosixPath('keras_ttp/modelnet40_ply_hdf5_2048/modelnet40_ply_hdf5_2048')
    """
    if data_dir is not None:
        return require_dir(data_dir, f"{name} data directory")
    if name not in ARCHIVES:
        raise ValueError(f"Unknown data set {name!r}; known: {sorted(ARCHIVES)}")
    archive = ARCHIVES[name]
    if os.environ.get("KERAS_TTP_DATA_DIR"):
        local = pathlib.Path(os.environ["KERAS_TTP_DATA_DIR"]) / archive.folder
        if local.is_dir():
            return local
    if archive.url is None or not download:
        how = archive.note or f"download {archive.url}"
        raise FileNotFoundError(
            f"{name} not found: pass `data_dir`, or put the folder "
            f"{archive.folder!r} in $KERAS_TTP_DATA_DIR. To obtain it: {how}."
        )
    url = archive.url
    base_url = base_url or os.environ.get("KERAS_TTP_DATA_URL")
    if base_url:
        url = f"{base_url.rstrip('/')}/{url.rsplit('/', 1)[-1]}"
    return fetch_archive(url, archive.folder, archive.file_hash, cache_dir)


def fetch_archive(origin, folder, file_hash=None, cache_dir=None):
    """Downloads and extracts the archive at `origin` once (with
    `keras.utils.get_file`) and returns its `folder`. A download that fails
    the checksum `file_hash`, or lacks `folder`, is deleted and raises a
    `ValueError`.

    Example:
    >>> fetch_archive("https://example.org/data.zip", "data")  # doctest: +SKIP
    """
    stem = urllib.parse.urlsplit(origin).path.rsplit("/", 1)[-1].split(".")[0]
    downloads = pathlib.Path(cache_dir or default_cache_dir()).expanduser() / "keras_ttp"
    extracted = downloads / stem
    if (extracted / COMPLETE_MARKER).exists():
        return extracted / folder
    # `get_file` names the archive `<stem>_archive` and extracts it to `<stem>`.
    archive = downloads / f"{stem}_archive"
    try:
        keras.utils.get_file(
            stem,
            origin,
            file_hash=file_hash,
            cache_subdir=str(downloads.resolve()),
            extract=True,
        )
        if not (extracted / folder).is_dir():
            raise DataFormatError(
                f"the archive downloaded from {origin} has no folder {folder!r}"
            )
    except BaseException as error:
        archive.unlink(missing_ok=True)
        shutil.rmtree(extracted, ignore_errors=True)
        if file_hash is not None and "file hash" in str(error):
            raise ValueError(
                f"The file downloaded from {origin} does not match its "
                f"checksum {file_hash}; it was deleted from {downloads}. "
                f"({error})"
            ) from None
        if is_fetch_failure(error):
            raise ConnectionError(
                f"Could not download {origin} ({error}). To use a copy "
                "obtained another way, pass `data_dir=` the path of its "
                f"extracted {folder!r} folder, or put that folder at "
                f"{local_copy(folder)}; or give a reachable mirror with "
                "`base_url=` or $KERAS_TTP_DATA_URL."
            ) from None
        raise
    (extracted / COMPLETE_MARKER).touch()
    return extracted / folder


def is_fetch_failure(error):
    """Whether `error` is `keras.utils.get_file` failing to reach the host
    (it raises a bare `Exception`) or the connection failing mid-download."""
    network_errors = (
        urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError
    )  # fmt: skip
    return isinstance(error, network_errors) or str(error).startswith(
        "URL fetch failure"
    )


def local_copy(folder):
    """Where a local copy of `folder` is looked for first, in words."""
    if os.environ.get("KERAS_TTP_DATA_DIR"):
        return str(pathlib.Path(os.environ["KERAS_TTP_DATA_DIR"]) / folder)
    return (
        f"$KERAS_TTP_DATA_DIR/{folder} (KERAS_TTP_DATA_DIR is not set: set it "
        f"to the directory that holds {folder!r})"
    )
