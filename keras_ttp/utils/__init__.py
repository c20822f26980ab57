"""Shared helpers of keras-ttp."""

from keras_ttp.utils.epoch_seeds import EpochSeeds
