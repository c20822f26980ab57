"""What the example scripts share: their flags, backbones and results.

Data loading, pre-training, few-shot tables and results files come from
`keras_ttp.workflows`, which the `keras-ttp` command line uses too; the
help format and the `--output` / `--overwrite` flags from `keras_ttp.cli`.
"""

import argparse

import keras

from keras_ttp import cli
from keras_ttp import workflows

PRESET_HELP = (
    "start from this preset (a folder, e.g. written by examples/pretrain.py "
    "--preset-dir or `keras-ttp pretrain`, a registered name, or "
    "hf://owner/name); its architecture replaces --backbone and "
    "--embedding-dim, and a randomly initialised copy is the baseline"
)


def parse_args(doc, settings, data_help, preset=True, extra=None, files=("output",)):
    """The flags of an example, parsed, with the global seed set.

    One flag per entry of `settings` (`num_points` -> `--num-points`, a
    list takes several values), then `--data-dir` (`data_help` says what
    it holds), `--preset` when `preset`, `--output` and `--overwrite`;
    `extra(parser)` may add more. The flags named in
    `files` are files to write (folders for names ending in `_dir`): one
    that exists is refused here, before any work, unless `--overwrite`, and
    so is one that cannot be written (`workflows.check_output`).
    """
    title = doc.strip().splitlines()[0].removeprefix("Title: ")
    parser = argparse.ArgumentParser(description=title, formatter_class=cli.HelpFormatter)
    for name, value in settings.items():
        flag = f"--{name.replace('_', '-')}"
        many = isinstance(value, (list, tuple))
        parser.add_argument(
            flag,
            type=type(value[0] if many else value),
            nargs="+" if many else None,
            default=value,
            choices=sorted(workflows.BACKBONES) if name == "backbone" else None,
            help="default: %(default)s",
        )
    parser.add_argument("--data-dir", help=data_help)
    if preset:
        parser.add_argument("--preset", help=PRESET_HELP)
    cli.add_output_args(parser)
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    for name in files:
        try:
            workflows.check_output(
                getattr(args, name), args.overwrite, folder=name.endswith("_dir")
            )
        except OSError as error:
            parser.error(str(error))
    keras.utils.set_random_seed(args.seed)
    return args


def classification_setup(doc, settings, **kwargs):
    """`parse_args` for the examples on labelled shapes, then their data:
    `(args, train, test, description)`, the synthetic shapes or, with
    `--data-dir`, ModelNet10 (see `keras_ttp.workflows.load_classification_data`)."""
    args = parse_args(doc, settings, "folder with modelnet10_ply_hdf5_2048/", **kwargs)
    train, test, data = workflows.load_classification_data(
        args.data_dir, args.num_per_class, seed=args.seed
    )
    return args, train, test, data


def backbones(args):
    """The backbones to compare, `(name, backbone)` pairs, built one at a
    time: `random_init` always, and `preset` (its pre-trained weights)
    when `--preset` is given. With a preset, `random_init` is the preset's
    architecture freshly initialised."""
    yield "random_init", workflows.make_backbone(
        args.backbone, args.embedding_dim, args.preset, pretrained=False
    )
    if args.preset:
        yield "preset", workflows.make_backbone(preset=args.preset)


def finish(args, settings, data, results):
    """The results with the data, the preset, the settings and the
    backend; written as JSON to `--output` when given."""
    results = {
        "data": data,
        "preset": getattr(args, "preset", None),
        "settings": {name: getattr(args, name) for name in settings},
        **workflows.run_info(),
        **results,
    }
    if args.output:
        workflows.write_json(args.output, results)
    return results
