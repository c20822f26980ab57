import os
import subprocess
import sys
import textwrap

import keras
import numpy as np

from keras_ttp.models import DGCNN
from keras_ttp.models import PointNet
from tests.test_case import installed_backends
from tests.test_case import REPO_ROOT
from tests.test_case import TestCase
from tests.test_case import perturb_weights
from tests.test_case import random_points


LOAD_SCRIPT = textwrap.dedent(
    """
    import sys
    import keras
    import numpy as np
    import keras_ttp  # registers the classes

    folder = sys.argv[1]
    points = np.load(f"{folder}/points.npy")
    for name in sys.argv[2:]:
        model = keras.saving.load_model(f"{folder}/{name}.keras")
        outputs = model.predict(points, verbose=0)
        np.save(f"{folder}/{name}_{keras.backend.backend()}.npy", outputs["global_features"])
    """
)


class CrossBackendSavingTest(TestCase):
    def test_backbones_load_on_every_backend_with_same_outputs(self):
        points = random_points(3, 64)
        np.save(os.path.join(self.tmp_dir, "points.npy"), points)
        models = {
            "pointnet": PointNet(embedding_dim=32),
            "dgcnn": DGCNN(k=10, edge_filters=(8, 16), embedding_dim=32),
        }
        expected = {}
        for name, model in models.items():
            perturb_weights(model)
            model.save(os.path.join(self.tmp_dir, f"{name}.keras"))
            expected[name] = model.predict(points, verbose=0)["global_features"]
        for backend in installed_backends():
            if backend == keras.backend.backend():
                continue
            env = dict(os.environ, KERAS_BACKEND=backend)
            result = subprocess.run(
                [sys.executable, "-c", LOAD_SCRIPT, self.tmp_dir, *models],
                env=env,
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
            )
            self.assertEqual(result.returncode, 0, result.stderr[-3000:])
            for name in models:
                loaded = np.load(os.path.join(self.tmp_dir, f"{name}_{backend}.npy"))
                self.assertAllClose(
                    loaded, expected[name], atol=1e-4, rtol=1e-4,
                    msg=f"{name} saved on {keras.backend.backend()}, loaded on {backend}",
                )
