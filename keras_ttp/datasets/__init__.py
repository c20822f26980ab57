"""Point-cloud data sets, readers and input pipelines.

Every reader returns numpy arrays in one convention: points float32
`(num_shapes, num_points, 3)`, **y up**, each cloud centred on its centroid
and scaled into the unit sphere (`normalize=False` keeps the stored
scale); integer class labels indexing the reader's class table; for part
segmentation also per-point part labels. Raw sources in another frame are
turned y up (`frame.py` says how). Bad input raises `FileNotFoundError` or
`DataFormatError` (a `ValueError`) naming the file and the problem.

Readers take a `data_dir`. Without one they look in `$KERAS_TTP_DATA_DIR`,
then in the download cache, then download the official archive where there
is one (see `keras_ttp.datasets.download`).

Example:
>>> from keras_ttp import datasets
>>> data = datasets.make_synthetic_shapes(num_per_class=20, num_points=2048)
>>> train = datasets.PointCloudDataset(
...     data.points, batch_size=32, num_points=1024, drop_last=True, seed=0
... )
>>> modelnet = datasets.load_modelnet_h5("modelnet10_ply_hdf5_2048", "test")
"""

from keras_ttp.datasets.containers import PartSegmentationData
from keras_ttp.datasets.containers import PointCloudData
from keras_ttp.datasets.download import ARCHIVES
from keras_ttp.datasets.download import fetch_archive
from keras_ttp.datasets.download import get_dataset_dir
from keras_ttp.datasets.frame import normalize_points
from keras_ttp.datasets.frame import z_up_to_y_up
from keras_ttp.datasets.modelnet import MODELNET10_CLASSES
from keras_ttp.datasets.modelnet import MODELNET40_CLASSES
from keras_ttp.datasets.modelnet import load_modelnet_h5
from keras_ttp.datasets.modelnet import load_modelnet_resampled
from keras_ttp.datasets.modelnet_c import MODELNET40C_CORRUPTIONS
from keras_ttp.datasets.modelnet_c import load_modelnet40c
from keras_ttp.datasets.off_mesh import load_modelnet_off
from keras_ttp.datasets.off_mesh import read_off
from keras_ttp.datasets.off_mesh import sample_mesh_surface
from keras_ttp.datasets.pipeline import PointCloudDataset
from keras_ttp.datasets.ply import read_ply
from keras_ttp.datasets.ply import write_ply
from keras_ttp.datasets.scanobjectnn import SCANOBJECTNN_CLASSES
from keras_ttp.datasets.scanobjectnn import load_scanobjectnn
from keras_ttp.datasets.shapenet import SHAPENET_SYNSETS
from keras_ttp.datasets.shapenet import load_shapenet55
from keras_ttp.datasets.shapenet import load_shapenet_ply
from keras_ttp.datasets.shapenetpart import SHAPENETPART_CLASSES
from keras_ttp.datasets.shapenetpart import SHAPENETPART_PARTS
from keras_ttp.datasets.shapenetpart import load_shapenetpart
from keras_ttp.datasets.shapenetpart import load_shapenetpart_h5
from keras_ttp.datasets.synthetic import SYNTHETIC_CLASSES
from keras_ttp.datasets.synthetic import make_synthetic_shapes
from keras_ttp.datasets.validation import DataFormatError
