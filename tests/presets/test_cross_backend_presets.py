import os
import subprocess
import sys
import textwrap

import keras
import numpy as np

from keras_ttp.models import DGCNN
from keras_ttp.models import PointCloudClassifier
from keras_ttp.models import PointNet
from tests.test_case import REPO_ROOT
from tests.test_case import installed_backends
from tests.test_case import TestCase
from tests.test_case import perturb_weights
from tests.test_case import random_points

LOAD_SCRIPT = textwrap.dedent(
    """
    import sys
    import keras
    import numpy as np
    from keras_ttp.models import Backbone, Task

    folder = sys.argv[1]
    points = np.load(f"{folder}/points.npy")
    backbone = Backbone.from_preset(f"{folder}/pointnet")
    outputs = backbone.predict(points, verbose=0)["global_features"]
    np.save(f"{folder}/pointnet_{keras.backend.backend()}.npy", outputs)
    classifier = Task.from_preset(f"{folder}/classifier")
    outputs = classifier.predict(points, verbose=0)
    np.save(f"{folder}/classifier_{keras.backend.backend()}.npy", outputs)
    """
)


class CrossBackendPresetTest(TestCase):
    def test_presets_load_on_every_backend_with_same_outputs(self):
        points = random_points(3, 64)
        np.save(os.path.join(self.tmp_dir, "points.npy"), points)
        backbone = PointNet(embedding_dim=32)
        classifier = PointCloudClassifier(
            DGCNN(k=10, edge_filters=(8, 16), embedding_dim=32),
            num_classes=5,
            hidden_dims=(16,),
        )
        for name, model in (("pointnet", backbone), ("classifier", classifier)):
            perturb_weights(model)
            model.save_to_preset(os.path.join(self.tmp_dir, name))
        expected = {
            "pointnet": backbone.predict(points, verbose=0)["global_features"],
            "classifier": classifier.predict(points, verbose=0),
        }
        for backend in installed_backends():
            if backend == keras.backend.backend():
                continue
            result = subprocess.run(
                [sys.executable, "-c", LOAD_SCRIPT, self.tmp_dir],
                env=dict(os.environ, KERAS_BACKEND=backend),
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
            )
            self.assertEqual(result.returncode, 0, result.stderr[-3000:])
            for name, outputs in expected.items():
                loaded = np.load(os.path.join(self.tmp_dir, f"{name}_{backend}.npy"))
                saved_on = keras.backend.backend()
                message = f"{name} saved on {saved_on}, loaded on {backend}"
                self.assertAllClose(loaded, outputs, atol=1e-4, rtol=1e-4, msg=message)
