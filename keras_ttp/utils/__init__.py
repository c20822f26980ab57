"""Shared helpers of keras-ttp."""

from keras_ttp.utils.epoch_seeds import EpochSeeds
from keras_ttp.utils.keep_best_epoch import KeepBestEpoch
