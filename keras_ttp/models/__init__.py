"""Backbones and tasks of keras-ttp.

- Backbones (`Backbone`): `PointNet`, `DGCNN`.
- Pre-training: `ToThePoint`.
- Tasks (`Task`): `PointCloudClassifier`, `PointCloudSegmenter`.

Backbones and tasks load presets with `from_preset` and save them with
`save_to_preset` (see `keras_ttp.presets`).
"""

from keras_ttp.models.backbone import Backbone
from keras_ttp.models.dgcnn import DGCNN
from keras_ttp.models.point_cloud_classifier import PointCloudClassifier
from keras_ttp.models.point_cloud_segmenter import PointCloudSegmenter
from keras_ttp.models.pointnet import PointNet
from keras_ttp.models.task import Task
from keras_ttp.models.to_the_point import ToThePoint
