"""The slope data set of notebook 05: generator, data script, and loader."""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from course_utils import slope_data
from course_utils.slope_data import (
    INCOMPLETE_MARKER,
    MANIFEST_NAME,
    SlopeDataError,
    angle_from_file_name,
    draw_slope_image,
    file_name_for,
    load_slope_folder,
    make_slope_images,
    read_manifest,
    sha256_of,
)

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "data_scripts" / "make_slope_dataset.py"
SMALL = ["--count", "6", "--image-size", "24", "--seed", "3", "--quiet"]


def run_script(*args, check=True):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, cwd=ROOT
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A small folder written by the data script, and what the generator makes in memory."""
    folder = tmp_path_factory.mktemp("slope") / "data"
    run_script("--out", folder, *SMALL)
    return folder


@pytest.fixture
def copy_of_built(built, tmp_path):
    target = tmp_path / "copy"
    target.mkdir()
    for path in built.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


# ------------------------------------------------------------------------------------------
# Generator
# ------------------------------------------------------------------------------------------


def test_generator_is_deterministic_per_seed_and_per_sample():
    images, angles = make_slope_images(8, image_size=32, seed=5)
    again, again_angles = make_slope_images(8, image_size=32, seed=5)
    np.testing.assert_array_equal(images, again)
    np.testing.assert_array_equal(angles, again_angles)
    # sample i depends only on (seed, i): a resumed run redraws exactly the same image
    tail, tail_angles = make_slope_images(3, image_size=32, seed=5, start=5)
    np.testing.assert_array_equal(tail, images[5:])
    np.testing.assert_array_equal(tail_angles, angles[5:])
    other, other_angles = make_slope_images(8, image_size=32, seed=6)
    assert not np.array_equal(other_angles, angles)


def test_generator_shapes_dtypes_and_ink():
    images, angles = make_slope_images(4, image_size=40, dots=0, seed=0)
    assert images.shape == (4, 40, 40, 1) and images.dtype == np.uint8
    assert angles.shape == (4,) and angles.dtype == np.float32
    assert images.max() == 255 and images.min() == 0  # white background, black bar
    # the bar passes through the centre; the corners stay white without dots
    assert (images[:, 18:22, 18:22] < 128).any(axis=(1, 2, 3)).all()
    assert (images[:, 0, 0] == 255).all()


def test_angles_cover_0_to_180_and_are_multiples_of_a_hundredth():
    _, angles = make_slope_images(2000, image_size=16, dots=0, seed=1)
    assert angles.min() >= 0 and angles.max() < 180
    assert angles.min() < 2 and angles.max() > 178  # uniform over the whole range
    assert np.histogram(angles, bins=6, range=(0, 180))[0].min() > 250
    np.testing.assert_allclose(angles * 100, np.round(angles * 100), atol=1e-3)


def test_bar_is_drawn_at_the_requested_angle():
    # The bar's pixels, as a cloud of points, have their main axis along the angle.
    for angle in (0.0, 30.0, 90.0, 135.0, 170.0):
        ink = 255 - draw_slope_image(angle, None, image_size=101).astype(float)
        rows, cols = np.nonzero(ink > 128)
        x, y = cols - cols.mean(), -(rows - rows.mean())
        cov = np.cov(np.stack([x, y]))
        vals, vecs = np.linalg.eigh(cov)
        main = vecs[:, np.argmax(vals)]
        found = np.rad2deg(np.arctan2(main[1], main[0])) % 180
        d = abs(found - angle) % 180
        assert min(d, 180 - d) < 1.5, (angle, found)


def test_dots_add_ink_and_bad_arguments_are_refused():
    clean = draw_slope_image(45.0, None, 32)
    dotted = draw_slope_image(45.0, [[-8.0, 8.0], [8.0, -8.0]], 32)
    assert (dotted < clean).sum() > 0
    with pytest.raises(ValueError, match=r"dot_xy must have shape \(n, 2\).*got shape \(4,\)"):
        draw_slope_image(45.0, [-8.0, 8.0, 8.0, -8.0], 32)
    with pytest.raises(ValueError, match="dot_xy must hold finite coordinates"):
        draw_slope_image(45.0, [[np.nan, 8.0]], 32)
    with pytest.raises(ValueError, match="image_size must be at least"):
        make_slope_images(2, image_size=4)
    with pytest.raises(ValueError, match="count must be at least 1"):
        make_slope_images(0)
    with pytest.raises(ValueError, match="dots must be at least 0"):
        make_slope_images(2, dots=-1)
    with pytest.raises(TypeError, match="count must be a whole number"):
        make_slope_images(2.5)


# ------------------------------------------------------------------------------------------
# File names and manifest
# ------------------------------------------------------------------------------------------


def test_file_names_round_trip_to_the_angle():
    assert file_name_for(1, 100.88) == "sample0001_angle_10088.png"  # the question's example
    assert angle_from_file_name("pngs/sample0001_angle_10088.png") == 100.88
    assert angle_from_file_name("test_sample0042_angle_00005.png") == 0.05
    _, angles = make_slope_images(300, image_size=16, dots=0, seed=2)
    for i, angle in enumerate(angles):
        assert angle_from_file_name(file_name_for(i, float(angle))) == pytest.approx(angle, abs=1e-4)


def test_unparsable_file_name_is_reported_by_name():
    with pytest.raises(SlopeDataError, match="holiday.png"):
        angle_from_file_name("holiday.png")


def test_script_writes_pngs_named_by_angle_and_a_manifest_with_checksums(built):
    rows = read_manifest(built)
    assert len(rows) == 6
    images, angles = make_slope_images(6, image_size=24, seed=3)
    for i, row in enumerate(rows):
        path = built / row["file"]
        assert row["file"] == file_name_for(i, float(angles[i]))
        assert row["angle"] == pytest.approx(float(angles[i]), abs=1e-4)
        assert row["sha256"] == sha256_of(path)
    loaded, loaded_angles, files = load_slope_folder(built)
    np.testing.assert_array_equal(loaded, images)  # PNG is lossless
    np.testing.assert_allclose(loaded_angles, angles)
    assert files == [row["file"] for row in rows]
    assert not list(built.glob("*.partial"))


def test_loader_without_manifest_reads_angles_from_file_names(copy_of_built):
    (copy_of_built / MANIFEST_NAME).unlink()
    images, angles, files = load_slope_folder(copy_of_built)
    assert images.shape == (6, 24, 24, 1)
    assert [angle_from_file_name(f) for f in files] == pytest.approx(list(angles))


def test_tf_data_pipeline_batches_images_and_angles(built):
    images, angles, _ = load_slope_folder(built)
    dataset = slope_data.slope_dataset(images, angles, batch_size=4, shuffle=False)
    batches = list(dataset.as_numpy_iterator())
    assert [len(b[0]) for b in batches] == [4, 2]
    assert batches[0][0].dtype == np.float32 and batches[0][0].shape == (4, 24, 24, 1)
    np.testing.assert_allclose(batches[0][1], angles[:4])
    with pytest.raises(ValueError, match="one angle per image"):
        slope_data.slope_dataset(images, angles[:3])


# ------------------------------------------------------------------------------------------
# Interrupted and repeated runs
# ------------------------------------------------------------------------------------------


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_rerun_keeps_complete_files_and_changes_nothing(copy_of_built):
    before = _snapshot(copy_of_built)
    result = run_script("--out", copy_of_built, *SMALL)
    assert "0 written, 6 already complete" in result.stdout
    assert _snapshot(copy_of_built) == before


def test_folder_without_manifest_is_incomplete_and_next_run_completes_it(copy_of_built, built):
    # An interrupted run: manifest not yet written, a temp file left, one PNG truncated,
    # one PNG never written.
    files = [row["file"] for row in read_manifest(built)]
    (copy_of_built / MANIFEST_NAME).unlink()
    (copy_of_built / (files[5] + ".partial")).write_bytes(b"half")
    (copy_of_built / files[5]).unlink()
    truncated = copy_of_built / files[2]
    truncated.write_bytes(truncated.read_bytes()[:40])

    with pytest.raises(SlopeDataError, match=files[2]):
        load_slope_folder(copy_of_built)  # the truncated file is named

    result = run_script("--out", copy_of_built, *SMALL)
    assert "2 written, 4 already complete" in result.stdout
    assert _snapshot(copy_of_built) == _snapshot(built)


def test_corrupt_png_is_reported_by_name(copy_of_built):
    name = read_manifest(copy_of_built)[1]["file"]
    (copy_of_built / name).write_bytes(b"not a png at all")
    with pytest.raises(SlopeDataError, match=f"{name}.*checksum"):
        load_slope_folder(copy_of_built)
    with pytest.raises(SlopeDataError, match=f"cannot read the image {name}"):
        load_slope_folder(copy_of_built, verify=False)


def test_unparsable_name_in_a_folder_is_reported_by_name(copy_of_built):
    (copy_of_built / MANIFEST_NAME).unlink()
    (copy_of_built / "cat.png").write_bytes(b"")
    with pytest.raises(SlopeDataError, match="'cat.png'"):
        load_slope_folder(copy_of_built)


def test_missing_folder_error_names_the_build_command(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=r"make_slope_dataset\.py --out .*nowhere"):
        load_slope_folder(missing)


def test_manifest_is_the_last_file_written(built):
    # Every PNG is older than (or as old as) the manifest that lists it.
    manifest_time = (built / MANIFEST_NAME).stat().st_mtime_ns
    assert all(
        (built / row["file"]).stat().st_mtime_ns <= manifest_time for row in read_manifest(built)
    )
    with (built / MANIFEST_NAME).open(newline="") as handle:
        assert next(csv.reader(handle)) == ["file", "angle", "sha256"]


# ------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------


def test_help_describes_the_options():
    result = run_script("--help")
    for option in ("--count", "--image-size", "--seed", "--dots", "--workers", "--out"):
        assert option in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "0"], "--count must be at least 1"),
        (["--count", "-3"], "--count must be at least 1"),
        (["--count", "ten"], "'ten' is not a whole number"),
        (["--image-size", "8"], "--image-size must be at least 16"),
        (["--image-size", "5000"], "--image-size must be at most 1024"),
        (["--dots", "-1"], "--dots must be at least 0"),
        (["--seed", "-1"], "--seed must be at least 0"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--workers", "two"], "'two' is not a whole number"),
    ],
)
def test_bad_option_is_refused_by_name_and_nothing_is_written(tmp_path, args, message):
    out = tmp_path / "out"
    result = run_script("--out", out, *args, check=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert not out.exists()


def test_out_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "a_file.txt"
    target.write_text("keep me")
    result = run_script("--out", target, "--count", "2", check=False)
    assert result.returncode == 2
    assert "is a file, not a folder" in result.stderr
    assert target.read_text() == "keep me"


def test_a_run_killed_half_way_leaves_nothing_that_loads_and_the_next_run_finishes(tmp_path):
    """A real interruption: SIGKILL (no clean-up handler runs) while the script writes PNGs.

    The whole process group is killed, the script and its worker processes, as when a terminal
    closes or the machine's out-of-memory killer steps in.
    """
    folder = tmp_path / "killed"
    options = ["--count", "3000", "--image-size", "32", "--seed", "5", "--workers", "2", "--quiet"]
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--out", str(folder), *options], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(list(folder.glob("*.png"))) < 100 and process.poll() is None:
            assert time.monotonic() < deadline, "the script wrote no images within 60 s"
            time.sleep(0.005)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    time.sleep(0.2)  # let the killed workers' exits settle before counting
    written_before_kill = len(list(folder.glob("*.png")))
    assert 100 <= written_before_kill < 3000, "the script finished before it could be killed"

    assert not (folder / MANIFEST_NAME).exists()
    with pytest.raises(SlopeDataError, match="incomplete.*make_slope_dataset.py --out"):
        load_slope_folder(folder)

    result = run_script("--out", folder, *options)
    kept = int(re.search(r"(\d+) already complete", result.stdout).group(1))
    assert kept == written_before_kill  # each PNG was complete before it got its final name
    assert not (folder / INCOMPLETE_MARKER).exists() and not list(folder.glob("*.partial"))
    images, angles, files = load_slope_folder(folder)  # verifies every checksum
    assert images.shape == (3000, 32, 32, 1) and len(set(files)) == 3000
    expected_images, expected_angles = make_slope_images(3000, image_size=32, seed=5)
    np.testing.assert_array_equal(images, expected_images)


def test_the_number_of_worker_processes_does_not_change_the_files(tmp_path):
    options = ["--count", "600", "--image-size", "24", "--seed", "2", "--quiet"]  # 600: parallel
    run_script("--out", tmp_path / "one", *options, "--workers", "1")
    run_script("--out", tmp_path / "two", *options, "--workers", "2")
    assert _snapshot(tmp_path / "one") == _snapshot(tmp_path / "two")


# ------------------------------------------------------------------------------------------
# The question's own files: matplotlib RGBA PNGs, 100 px, an axes frame, test_ files beside
# the training files in one folder
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def question_folder(tmp_path_factory):
    """Four training files and two test_ files, written with matplotlib as the question did."""
    folder = tmp_path_factory.mktemp("pngs")
    rng = np.random.default_rng(4)
    train_angles, test_angles = [12.34, 45.0, 100.88, 179.99], [21.56, 128.17]
    for prefix, angles in (("", train_angles), ("test_", test_angles)):
        for i, angle in enumerate(angles):
            name = file_name_for(i, angle, prefix=prefix)
            slope_data.write_question_png(folder / name, angle, rng.uniform(-10, 10, size=(50, 2)))
    return folder, train_angles, test_angles


def test_question_files_are_100_pixel_rgba_pngs_with_a_frame(question_folder, tmp_path):
    from PIL import Image

    folder, _, _ = question_folder
    with Image.open(folder / file_name_for(0, 12.34)) as image:
        assert image.mode == "RGBA" and image.size == (100, 100)
        assert (np.asarray(image)[..., 3] == 255).all()  # opaque: the white figure is drawn
    # the axes frame: without dots and with an upright bar, the left third holds only the
    # frame's left edge, a grey line down the whole height of the axes
    slope_data.write_question_png(tmp_path / "upright.png", 90.0)
    with Image.open(tmp_path / "upright.png") as image:
        grey = np.asarray(image)[..., 0].astype(int)
    frame_column = int(np.argmin(grey[:, :30].mean(axis=0)))
    assert 5 < frame_column < 20, frame_column
    assert grey[20:80, frame_column].max() < 230 and grey[:, : frame_column - 1].min() == 255


def test_a_folder_mixing_training_and_test_files_is_refused_with_counts_and_fix(question_folder):
    folder, _, _ = question_folder
    with pytest.raises(SlopeDataError) as error:
        load_slope_folder(folder)
    message = str(error.value)
    assert "mixes 2 sets" in message
    assert "4 files named 'sample...png'" in message
    assert "2 files named 'test_sample...png'" in message
    assert "load_slope_folder(folder, prefix='')" in message
    assert "load_slope_folder(folder, prefix='test_')" in message


def test_prefix_selects_the_training_or_the_test_files(question_folder):
    folder, train_angles, test_angles = question_folder
    images, angles, files = load_slope_folder(folder, prefix="")
    assert images.shape == (4, 100, 100, 1) and images.dtype == np.uint8
    np.testing.assert_allclose(angles, train_angles, atol=1e-4)
    assert all(name.startswith("sample") for name in files)
    test_images, test_angles_read, test_files = load_slope_folder(folder, prefix="test_")
    assert test_images.shape == (2, 100, 100, 1)
    np.testing.assert_allclose(test_angles_read, test_angles, atol=1e-4)
    assert all(name.startswith("test_sample") for name in test_files)
    # RGBA read as grey: white paper, black bar through the centre
    assert images[:, 0, 0, 0].min() == 255
    assert (images[:, 45:55, 45:55] < 64).any(axis=(1, 2, 3)).all()


def test_a_prefix_no_file_has_is_refused_naming_the_prefixes_found(question_folder):
    folder, _, _ = question_folder
    found = r"prefix 'val_'.*4 files named 'sample\.\.\.png'.*prefix='test_'"
    with pytest.raises(SlopeDataError, match=found):
        load_slope_folder(folder, prefix="val_")
    with pytest.raises(SlopeDataError, match="prefix 'sample'"):
        load_slope_folder(folder, prefix="sample")  # the prefix is what comes before "sample"


@pytest.mark.parametrize("bad", [0, b"test_", ["test_"], True])
def test_a_prefix_that_is_not_a_string_is_refused(question_folder, bad):
    folder, _, _ = question_folder
    with pytest.raises(TypeError, match="prefix must be a string or None"):
        load_slope_folder(folder, prefix=bad)


def test_prefix_also_selects_from_a_manifest_folder(built):
    images, _, files = load_slope_folder(built, prefix="")
    assert len(files) == 6 and images.shape[0] == 6
    with pytest.raises(SlopeDataError, match="no file .* has the prefix 'test_'"):
        load_slope_folder(built, prefix="test_")


def test_a_single_prefix_folder_loads_without_choosing_one(question_folder, tmp_path):
    folder, _, test_angles = question_folder
    for path in folder.glob("test_*.png"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    images, angles, _ = load_slope_folder(tmp_path)  # test_ files only: one set, nothing to choose
    np.testing.assert_allclose(angles, test_angles, atol=1e-4)
    assert images.shape == (2, 100, 100, 1)


def test_transparent_pixels_read_as_white(tmp_path):
    from PIL import Image

    rgba = np.zeros((20, 20, 4), dtype=np.uint8)  # fully transparent black...
    rgba[8:12, :, 3] = 255  # ...except an opaque black bar across the middle
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / file_name_for(0, 0.0))
    images, _, _ = load_slope_folder(tmp_path)
    assert images[0, 0, 0, 0] == 255 and images[0, 10, 5, 0] == 0


def test_file_prefix_is_what_comes_before_sample():
    assert slope_data.file_prefix("sample0001_angle_10088.png") == ""
    assert slope_data.file_prefix("pngs/test_sample0042_angle_00005.png") == "test_"
    with pytest.raises(SlopeDataError, match="'holiday.png'"):
        slope_data.file_prefix("holiday.png")


def test_write_question_png_refuses_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        slope_data.write_question_png(tmp_path / "missing" / "a.png", 10.0)
    with pytest.raises(TypeError, match="angle"):
        slope_data.write_question_png(tmp_path / "a.png", "ten")
    with pytest.raises(TypeError, match="path must be a file path"):
        slope_data.write_question_png(3, 10.0)
    xs, ys = np.array([1.0, -2.0, 3.0]), np.array([4.0, 5.0, -6.0])
    bad_dots = [
        (xs, ValueError, r"shape \(n, 2\).*np\.column_stack\(\[xs, ys\]\); got shape \(3,\)"),
        (np.stack([xs, ys]), ValueError, r"got shape \(2, 3\)"),  # (2, n), not (n, 2)
        (np.zeros((2, 3)), ValueError, r"got shape \(2, 3\)"),
        (np.zeros((1, 2, 2)), ValueError, r"got shape \(1, 2, 2\)"),
        (np.float64(3.0), ValueError, r"got shape \(\)"),
        ([[1.0, 2.0], [np.nan, 0.0]], ValueError, r"finite.*row 1 is \(nan, 0\.0\)"),
        ([[np.inf, 2.0]], ValueError, r"finite.*row 0 is \(inf, 2\.0\).*1 of 1 rows"),
        ([["a", "b"]], TypeError, r"dot_xy must be an array of numbers of shape \(n, 2\)"),
        ([[1.0, 2.0], [3.0]], TypeError, r"np\.column_stack"),  # ragged rows
    ]
    for dots, error, message in bad_dots:
        with pytest.raises(error, match=message):
            slope_data.write_question_png(tmp_path / "a.png", 10.0, dots)
    assert not list(tmp_path.iterdir())
    # the fix the message names works, and so does an empty set of dots
    slope_data.write_question_png(tmp_path / "a.png", 10.0, np.column_stack([xs, ys]))
    slope_data.write_question_png(tmp_path / "b.png", 10.0, np.zeros((0, 2)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]
