"""Presets: saved backbones and tasks that `from_preset` loads.

A preset is found by a registered name (`list_presets()`), a local folder, or
an `hf://owner/name[@revision]` handle on the Hugging Face Hub. Shipped
preset folders live under `keras_ttp/presets/<name>/`.

Example:
>>> keras_ttp.presets.list_presets()
{'ttp_shapenet_pointnet': {'description': ..., 'backbone': 'PointNet', ...}, ...}
>>> backbone = keras_ttp.models.PointNet.from_preset("ttp_shapenet")
>>> backbone.save_to_preset("my_preset")
>>> keras_ttp.upload_preset("hf://me/my_preset", "my_preset")
"""

from keras_ttp.presets.preset_loader import PresetLoader
from keras_ttp.presets.registry import PRESETS
from keras_ttp.presets.registry import list_presets
from keras_ttp.presets.upload import upload_preset
