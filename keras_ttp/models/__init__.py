"""Backbones and tasks of keras-ttp."""

from keras_ttp.models.backbone import Backbone
from keras_ttp.models.dgcnn import DGCNN
from keras_ttp.models.pointnet import PointNet
from keras_ttp.models.to_the_point import ToThePoint
