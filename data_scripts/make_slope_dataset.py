#!/usr/bin/env python3
"""Write the slope data set of notebook 05 to a folder of PNG files.

Each image shows a bar through the centre at an angle uniform in [0, 180) degrees and noise
dots, as in the Stack Exchange question the notebook starts from. The angle is in the file
name, as in the question: sample0001_angle_10088.png is 100.88 degrees.

    python data_scripts/make_slope_dataset.py --out data/slope
    python data_scripts/make_slope_dataset.py --out data/slope --count 10000 --image-size 100

The folder also gets manifest.csv (file, angle, sha256), written last. While a run is under way
the folder holds a file named INCOMPLETE, removed only after the manifest is written; the loader
(course_utils.slope_data.load_slope_folder) refuses a folder that has it, so a run killed half way
leaves nothing that loads as a data set. Running the same command again is safe and quick: files that
are already complete are kept, missing or damaged ones are redrawn (the same image each time,
since sample i depends only on the seed and i), then the manifest is written. An interrupted
run therefore never leaves a half-written PNG under a final name, and the next run finishes it.
Sample files left by an earlier run with other options are removed.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import hashlib
import io
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

try:
    from course_utils import slope_data
except ModuleNotFoundError as error:  # course_utils and numpy come with the course's venv
    raise SystemExit(
        f"{error}. Run this script with the course's environment: "
        "`python3 course.py setup`, then `.venv/bin/python data_scripts/make_slope_dataset.py ...`."
    ) from None

TEMP_SUFFIX = ".partial"


def _positive_int(minimum: int, what: str, fix: str, maximum: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; {fix}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be at least {minimum}, got {value}; {fix}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{what} must be at most {maximum}, got {value}; {fix}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="make_slope_dataset.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("data/slope"),
        help="folder to write into; created if missing (default: data/slope)",
    )
    parser.add_argument(
        "--count",
        type=_positive_int(1, "--count", "ask for one or more images, e.g. --count 1000."),
        default=1000,
        help="number of images (default: 1000)",
    )
    parser.add_argument(
        "--image-size",
        type=_positive_int(
            slope_data.MIN_IMAGE_SIZE,
            "--image-size",
            f"use a side of {slope_data.MIN_IMAGE_SIZE} to 1024 pixels, e.g. --image-size 100.",
            maximum=1024,
        ),
        default=slope_data.DEFAULT_IMAGE_SIZE,
        help=f"side of the square images in pixels (default: {slope_data.DEFAULT_IMAGE_SIZE}, "
        "the question's figsize 5 inch at 20 dpi)",
    )
    parser.add_argument(
        "--dots",
        type=_positive_int(0, "--dots", "use 0 for no noise, e.g. --dots 50."),
        default=slope_data.DEFAULT_DOTS,
        help=f"noise dots per image (default: {slope_data.DEFAULT_DOTS})",
    )
    parser.add_argument(
        "--seed",
        type=_positive_int(0, "--seed", "use a whole number such as --seed 0."),
        default=0,
        help="data-set seed; the same seed gives the same images (default: 0)",
    )
    parser.add_argument(
        "--workers",
        type=_positive_int(1, "--workers", f"use 1 to {os.cpu_count()} processes, e.g. --workers 2."),
        default=os.cpu_count() or 1,
        help="processes that draw and write images in parallel (default: one per CPU core, "
        f"{os.cpu_count()} here); the files are the same for any number",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _png_bytes(image) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes, durable: bool = False) -> None:
    """Write to a temporary name in the same folder, then rename: readers never see half a file.

    A killed process cannot leave half a file under the final name. Only a power cut could lose
    data the system had not yet flushed; the manifest's checksums catch that at load time, and
    the next run redraws what does not match. So only the manifest is flushed to disk
    (``durable``): an fsync per image would make writing twice as slow.
    """
    temp = path.with_name(path.name + TEMP_SUFFIX)
    with temp.open("wb") as handle:
        handle.write(data)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(temp, path)


def _is_complete(path: Path, expected: bytes) -> bool:
    return path.is_file() and path.stat().st_size == len(expected) and path.read_bytes() == expected


#: Images drawn, encoded and written per task; large enough to make task overhead negligible.
CHUNK = 64
#: Below this many images, starting worker processes (about 0.1 s) costs more than it saves.
PARALLEL_FROM = 500


def _write_chunk(out: Path, start: int, stop: int, *, image_size: int, dots: int, seed: int):
    """Draw samples ``start`` to ``stop - 1``; write each one whose file is missing or differs.

    Returns the manifest rows of the chunk and how many files were written.
    """
    images, angles = slope_data.make_slope_images(
        stop - start, image_size=image_size, dots=dots, seed=seed, start=start
    )
    rows, written = [], 0
    for index, image, angle in zip(range(start, stop), images, angles, strict=True):
        data = _png_bytes(image[..., 0])
        path = out / slope_data.file_name_for(index, float(angle))
        if not _is_complete(path, data):
            _write_atomically(path, data)
            written += 1
        rows.append((path.name, f"{float(angle):.2f}", hashlib.sha256(data).hexdigest()))  # == the file's
    return rows, written


def write_dataset(
    out: Path, count: int, image_size: int, dots: int, seed: int, progress: bool, workers: int = 1
):
    """Write (or complete) the data set in ``out``; return (written, kept) counts.

    Sample ``i`` depends only on the seed and ``i``, so chunks can be drawn in any order and in
    parallel (``workers`` processes) and the files come out the same.
    """
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    manifest = out / slope_data.MANIFEST_NAME
    # From here on the folder is incomplete until the new manifest is in place. The marker says
    # so to the loader even for files it would otherwise read by their names alone.
    marker = out / slope_data.INCOMPLETE_MARKER
    _write_atomically(marker, b"make_slope_dataset.py has not finished writing this folder; run it again.\n")
    manifest.unlink(missing_ok=True)
    for leftover in out.glob("*" + TEMP_SUFFIX):
        leftover.unlink()

    starts = range(0, count, CHUNK)
    stops = [min(start + CHUNK, count) for start in starts]
    task = functools.partial(_write_chunk, out, image_size=image_size, dots=dots, seed=seed)
    parallel = workers > 1 and count >= PARALLEL_FROM
    results = []
    with (
        ProcessPoolExecutor(min(workers, len(starts))) if parallel else contextlib.nullcontext()
    ) as pool, tqdm(total=count, desc="slope images", unit="img", disable=not progress) as bar:
        # Both maps yield in chunk order, so the manifest is the same however the work is split.
        for chunk_rows, chunk_written in (pool.map if parallel else map)(task, starts, stops):
            results.append((chunk_rows, chunk_written))
            bar.update(len(chunk_rows))
    rows = [row for chunk_rows, _ in results for row in chunk_rows]
    written = sum(chunk_written for _, chunk_written in results)

    # Samples of an earlier run with other options would be read by a manifest-less loader.
    current = {name for name, _, _ in rows}
    for stale in out.glob("sample*_angle_*.png"):
        if stale.name not in current:
            stale.unlink()

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(slope_data.MANIFEST_FIELDS)
    writer.writerows(rows)
    _write_atomically(manifest, text.getvalue().encode("utf-8"), durable=True)
    marker.unlink()
    return written, count - written


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        parser.error(
            f"--out {args.out} is a file, not a folder; pass a folder path such as "
            "--out data/slope (it is created if missing)."
        )
    written, kept = write_dataset(
        args.out, args.count, args.image_size, args.dots, args.seed, progress=not args.quiet,
        workers=args.workers,
    )  # fmt: skip
    print(
        f"{args.out}: {args.count} images of {args.image_size}x{args.image_size} px "
        f"({written} written, {kept} already complete), manifest {slope_data.MANIFEST_NAME}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
