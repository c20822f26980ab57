#!/usr/bin/env bash
# Downloads into .whl/ (ignored by git) the wheels that the GPU machine lacks
# to run keras-ttp and tools/gpu_check.py: its image has Python 3.12, CUDA
# builds of torch and jax, and no network, but neither keras nor tensorflow.
#
# By default: keras (the version pinned below) and the two of its
# dependencies the image lacks, namex and optree; the image's package list
# (/work/.library/device/KINDS.md, "Python packages already there") holds
# keras's others (absl-py, h5py, ml-dtypes, numpy, packaging, rich, optree's
# typing-extensions) and keras-ttp's own (scikit-learn, huggingface-hub,
# safetensors). `--all` also downloads those, for an image without them;
# carry them only where they are missing: two versions of a package stop
# the install there.
#
# Usage (here, with network):
#     tools/prepare_gpu_wheels.sh [--all]
# There (the folder carried as `.whl`):
#     python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
#         --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
#
# Environment: PYTHON (the interpreter whose pip downloads, default python3),
# PYTHON_VERSION (the GPU machine's, default 3.12), DEST (default .whl).
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PYTHON_VERSION=${PYTHON_VERSION:-3.12}
DEST=${DEST:-.whl}

# Pinned to the versions this project is developed and tested with.
MISSING=(keras==3.15.1 namex==0.1.0 optree==0.20.0)
# Present there: downloaded with --all only (the newest wheels).
PRESENT=(absl-py rich h5py ml-dtypes packaging scikit-learn huggingface-hub safetensors)

packages=("${MISSING[@]}")
if [[ "${1:-}" == "--all" ]]; then
    packages+=("${PRESENT[@]}")
elif [[ $# -gt 0 ]]; then
    echo "usage: $0 [--all]" >&2
    exit 2
fi

# One version of each package: start from an empty folder.
mkdir -p "$DEST"
rm -f "$DEST"/*.whl

platforms=()
for platform in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 \
    manylinux2014_x86_64 manylinux1_x86_64; do
    platforms+=(--platform "$platform")
done
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: \
    --python-version "$PYTHON_VERSION" --implementation cp "${platforms[@]}" \
    -d "$DEST" "${packages[@]}"

echo "Wheels in $DEST (for Python $PYTHON_VERSION, manylinux x86-64):"
for wheel in "$DEST"/*.whl; do
    requires=$(unzip -p "$wheel" '*.dist-info/METADATA' | { grep '^Requires-Dist' || true; } |
        { grep -v 'extra ==' || true; } | sed 's/^Requires-Dist: //' | tr '\n' ',' | sed 's/,$//; s/,/, /g')
    echo "  $(basename "$wheel")  requires: ${requires:-nothing}"
done
du -ch "$DEST"/*.whl | tail -1
