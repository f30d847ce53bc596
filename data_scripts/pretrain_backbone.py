#!/usr/bin/env python3
"""Pretrain the course's backbone on the synthetic pattern task and save it with its card.

No ImageNet weights can be downloaded where the course runs, so notebook 06 transfers a backbone
the course trains itself: ``course_utils.backbone.build_backbone`` (three Conv-BN-ReLU blocks)
with a 20-way softmax head, trained on ``course_utils.source_task.make_source_task`` images. The
backbone (without the head) is saved as a Keras file, with a card beside it (same name, .json)
recording what it was trained on, for how long, its accuracy on held-out source images, the
command that reproduces it and the file's SHA-256 checksum, which loading verifies.

    .venv/bin/python data_scripts/pretrain_backbone.py                 # the shipped backbone
    .venv/bin/python data_scripts/pretrain_backbone.py --out /tmp/bb --images 2000 --epochs 1

The run is deterministic given --seed (same weights on the same machine and thread count;
the card records a digest of the weights to compare runs by). The files are written to
temporary names and renamed at the end, so an interrupted run never leaves a backbone without
its card or a card that describes another file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

try:
    from course_utils import backbone as backbone_lib
    from course_utils import setup_notebook, source_task
except ModuleNotFoundError as error:  # course_utils and numpy come with the course's venv
    raise SystemExit(
        f"{error}. Run this script with the course's environment: "
        "`python3 course.py setup`, then `.venv/bin/python data_scripts/pretrain_backbone.py`."
    ) from None

DEFAULT_IMAGES = 48_000
DEFAULT_EPOCHS = 8
TEST_IMAGES = 4_000
BATCH_SIZE = 128


def _int_at_least(minimum: int, what: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be at least {minimum}, got {value}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pretrain_backbone.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=backbone_lib.PRETRAINED_DIR,
        help="folder for patterns_backbone.keras and its card (default: the shipped one)",
    )
    parser.add_argument(
        "--images", type=_int_at_least(200, "--images"), default=DEFAULT_IMAGES,
        help=f"source-task training images (default {DEFAULT_IMAGES:,})",
    )  # fmt: skip
    parser.add_argument(
        "--epochs", type=_int_at_least(1, "--epochs"), default=DEFAULT_EPOCHS,
        help=f"training epochs (default {DEFAULT_EPOCHS})",
    )  # fmt: skip
    parser.add_argument("--seed", type=_int_at_least(0, "--seed"), default=0, help="default 0")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    return parser


def weights_digest(model) -> str:
    """SHA-256 of all weights in order: equal digests mean identical models.

    The .keras file's own checksum cannot serve: Keras writes the save date into it.
    """
    digest = hashlib.sha256()
    for weight in model.weights:
        digest.update(weight.path.encode())
        digest.update(weight.numpy().tobytes())
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = args.out
    if out.exists() and not out.is_dir():
        raise SystemExit(f"--out {out} is a file; pass a folder (it is created if missing).")
    out.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    # Seeds, op determinism and a quiet TensorFlow, as in the notebooks; both cores by default.
    versions = setup_notebook(seed=args.seed, verbose=not args.quiet)
    import keras

    train = source_task.make_source_task(args.images, seed=args.seed)
    test = source_task.make_source_task(TEST_IMAGES, seed=args.seed + 1_000_000)
    n_classes = len(train.class_names)

    backbone = backbone_lib.build_backbone()
    classifier = keras.Sequential(
        [backbone, keras.layers.Dense(n_classes, activation="softmax", name="pattern")],
        name="pretraining",
    )
    steps = args.epochs * -(-args.images // BATCH_SIZE)
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, decay_steps=steps, alpha=0.02)
    classifier.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    training_started = time.perf_counter()
    classifier.fit(
        train.images, train.labels, epochs=args.epochs, batch_size=BATCH_SIZE,
        verbose=0 if args.quiet else 2,
    )  # fmt: skip
    training_seconds = time.perf_counter() - training_started
    _, test_accuracy = classifier.evaluate(test.images, test.labels, batch_size=512, verbose=0)

    target = out / backbone_lib.BACKBONE_FILENAME
    card_file = backbone_lib.card_path(target)
    partial = target.with_name(target.stem + ".partial.keras")
    backbone.save(partial)
    card = {
        "model": backbone.name,
        "architecture": "course_utils.backbone.build_backbone(image_size=32): 3 blocks of "
        f"2 x (Conv2D 3x3 - BatchNorm - ReLU) with {list(backbone_lib.BLOCK_FILTERS)} filters, "
        "2x2 max pooling after each block, global average pooling",
        "input": "RGB images 32 x 32, pixel values in [0, 1]",
        "output": f"{backbone.output.shape[-1]} features",
        "parameters": int(backbone.count_params()),
        "trained_on": f"{args.images:,} images of course_utils.source_task.make_source_task "
        f"(seed {args.seed}): {n_classes} pattern classes ({', '.join(train.class_names)}) with "
        "random rotation, scale, position, stroke width, colours, brightness gradient and noise",
        "epochs": args.epochs,
        "batch_size": BATCH_SIZE,
        "optimizer": "Adam, learning rate 3e-3 with cosine decay",
        "source_test_accuracy": round(float(test_accuracy), 4),
        "source_test_images": TEST_IMAGES,
        "training_seconds": round(training_seconds, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "versions": versions,
        "command": "python data_scripts/pretrain_backbone.py"
        + ("" if argv is None and len(sys.argv) == 1 else " " + " ".join(argv or sys.argv[1:])),
        "weights_sha256": weights_digest(backbone),
        "sha256": backbone_lib.file_sha256(partial),
    }
    partial_card = card_file.with_name(card_file.stem + ".partial.json")
    partial_card.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    # The card is renamed last: a backbone next to a stale card fails its checksum loudly
    # instead of being loaded under a description that is not its own.
    os.replace(partial, target)
    os.replace(partial_card, card_file)

    total = time.perf_counter() - started
    print(
        f"source-task test accuracy {test_accuracy:.4f} on {TEST_IMAGES:,} held-out images; "
        f"training {training_seconds:.1f} s ({args.epochs} epochs x {args.images:,} images), "
        f"total {total:.1f} s\nwrote {target} ({target.stat().st_size / 1e6:.2f} MB, "
        f"{card['parameters']:,} parameters) and {card_file}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
