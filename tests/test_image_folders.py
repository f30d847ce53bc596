"""course_utils.image_folders: class folders of PNG files that Keras loads, and pipeline throughput."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from course_utils.image_folders import epoch_throughput, write_class_folders
from course_utils.synthetic import make_shapes

NAMES = ("circle", "square", "triangle")


def _png_files(folder):
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*.png"))


def test_each_image_lands_in_its_class_folder_with_its_pixels(tmp_path):
    shapes = make_shapes(12, image_size=16, seed=3)
    counts = write_class_folders(shapes.images, shapes.labels, NAMES, tmp_path / "shapes")
    assert counts == {name: int(np.sum(shapes.labels == k)) for k, name in enumerate(NAMES)}
    assert list(counts) == list(NAMES)
    for index, label in enumerate(shapes.labels):
        path = tmp_path / "shapes" / NAMES[label] / f"image_{index:05d}.png"
        pixels = np.asarray(Image.open(path))
        np.testing.assert_array_equal(pixels, np.round(shapes.images[index] * 255).astype(np.uint8))
    assert len(_png_files(tmp_path / "shapes")) == 12


def test_grey_uint8_and_rgba_images_keep_their_channels(tmp_path):
    grey = np.arange(2 * 4 * 5, dtype=np.uint8).reshape(2, 4, 5)
    write_class_folders(grey, [0, 1], ("a", "b"), tmp_path / "grey", prefix="digit")
    loaded = np.asarray(Image.open(tmp_path / "grey" / "b" / "digit_00001.png"))
    np.testing.assert_array_equal(loaded, grey[1])
    rgba = np.random.default_rng(0).integers(0, 256, size=(1, 3, 3, 4)).astype(np.int64)
    write_class_folders(rgba, [0], ("only",), tmp_path / "rgba")
    assert np.asarray(Image.open(tmp_path / "rgba" / "only" / "image_00000.png")).shape == (3, 3, 4)


def test_a_class_without_images_still_gets_its_folder(tmp_path):
    counts = write_class_folders(np.zeros((2, 4, 4)), [0, 0], ("cat", "dog"), tmp_path / "pets")
    assert counts == {"cat": 2, "dog": 0}
    assert (tmp_path / "pets" / "dog").is_dir()


def test_keras_reads_the_folders_back_with_the_class_names_and_labels(tmp_path):
    import keras

    shapes = make_shapes(9, image_size=16, seed=4)
    write_class_folders(shapes.images, shapes.labels, NAMES, tmp_path / "shapes")
    dataset = keras.utils.image_dataset_from_directory(
        tmp_path / "shapes", image_size=(16, 16), batch_size=None, shuffle=False, verbose=False
    )
    assert dataset.class_names == list(NAMES)
    pairs = [(image.numpy(), int(label)) for image, label in dataset]
    order = np.argsort([f"{NAMES[label]}/{i:05d}" for i, label in enumerate(shapes.labels)])
    for (image, label), index in zip(pairs, order, strict=True):
        assert label == shapes.labels[index]
        np.testing.assert_allclose(image, np.round(shapes.images[index] * 255), atol=1e-4)


def test_a_folder_that_already_holds_files_is_refused_and_left_as_it_was(tmp_path):
    folder = tmp_path / "shapes"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"'shapes' is not empty \(it holds 1 entries: notes.txt\)"):
        write_class_folders(np.zeros((1, 4, 4)), [0], ("a",), folder)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_writing_twice_into_the_same_folder_is_refused(tmp_path):
    write_class_folders(np.zeros((1, 4, 4)), [0], ("a",), tmp_path / "data")
    with pytest.raises(FileExistsError, match="new or empty folder"):
        write_class_folders(np.zeros((1, 4, 4)), [0], ("a",), tmp_path / "data")


def test_an_empty_existing_folder_is_used(tmp_path):
    (tmp_path / "empty").mkdir()
    assert write_class_folders(np.zeros((1, 4, 4)), [0], ("a",), tmp_path / "empty") == {"a": 1}


@pytest.mark.parametrize(
    "images, labels, names, error, match",
    [
        (np.zeros((2, 4)), [0, 1], NAMES, ValueError, "must have 3 or 4 dimensions"),
        (np.zeros((2, 4, 4, 2)), [0, 1], NAMES, ValueError, "2 channels"),
        (np.full((2, 4, 4), 1.5), [0, 1], NAMES, ValueError, r"values in \[0, 1\], got values from 1.5"),
        (np.full((2, 4, 4), 300), [0, 1], NAMES, ValueError, "from 0 to 255"),
        (np.full((2, 4, 4), np.nan), [0, 1], NAMES, ValueError, "NaN"),
        ("images.png", [0], NAMES, TypeError, "load the file into an array first"),
        (np.zeros((2, 4, 4)), [0], NAMES, ValueError, "2 images but 1 labels"),
        (np.zeros((2, 4, 4)), [0, 3], NAMES, ValueError, "between 0 and 2 .* got 3"),
        (np.zeros((2, 4, 4)), [0, -1], NAMES, ValueError, "got -1"),
        (np.zeros((2, 4, 4)), [0, 0.5], NAMES, ValueError, "whole numbers"),
        (np.zeros((2, 4, 4)), ["a", "b"], NAMES, TypeError, "must hold numbers"),
        (np.zeros((2, 4, 4)), [0, 1], "circle", TypeError, "list of names"),
        (np.zeros((2, 4, 4)), [0, 1], (), ValueError, "class_names is empty"),
        (np.zeros((2, 4, 4)), [0, 1], ("a", "a"), ValueError, r"unique, got \['a'\]"),
        (np.zeros((2, 4, 4)), [0, 1], ("a", "b/c"), ValueError, "cannot be a folder name"),
        (np.zeros((2, 4, 4)), [0, 1], ("a", ".."), ValueError, "cannot be a folder name"),
        (np.zeros((2, 4, 4)), [0, 1], ("a", 3), TypeError, "non-empty string"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(tmp_path, images, labels, names, error, match):
    with pytest.raises(error, match=match):
        write_class_folders(images, labels, names, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_bad_directory_or_prefix_is_refused(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file"):
        write_class_folders(np.zeros((1, 4, 4)), [0], ("a",), tmp_path / "file.txt")
    with pytest.raises(TypeError, match="folder path"):
        write_class_folders(np.zeros((1, 4, 4)), [0], ("a",), 42)
    with pytest.raises(ValueError, match="prefix"):
        write_class_folders(np.zeros((1, 4, 4)), [0], ("a",), tmp_path / "out", prefix="a/b")
    with pytest.raises(TypeError, match="prefix must be a string"):
        write_class_folders(np.zeros((1, 4, 4)), [0], ("a",), tmp_path / "out", prefix=7)
    assert not (tmp_path / "out").exists()


def test_throughput_counts_every_image_of_batched_and_single_datasets(monkeypatch):
    import types

    import tensorflow as tf

    from course_utils import image_folders

    ticks = iter(np.arange(0.0, 100.0, 0.5))  # every reading of the clock is 0.5 s after the last
    monkeypatch.setattr(image_folders, "time", types.SimpleNamespace(perf_counter=lambda: next(ticks)))
    images = np.zeros((10, 4, 4, 3), dtype="float32")
    labels = np.arange(10)
    single = tf.data.Dataset.from_tensor_slices((images, labels))
    for dataset, expected in ((single, 10), (single.batch(3), 10), (single.batch(4, drop_remainder=True), 8)):
        np.testing.assert_array_equal(epoch_throughput(dataset, epochs=2), [expected / 0.5] * 2)
    # images alone, batched; grey images with their channel axis
    np.testing.assert_array_equal(epoch_throughput(tf.data.Dataset.from_tensor_slices(images).batch(4), epochs=1), [20])
    grey = tf.data.Dataset.from_tensor_slices(np.zeros((6, 5, 5, 1), "float32")).batch(4)
    np.testing.assert_array_equal(epoch_throughput(grey, epochs=1), [12])


def test_a_slow_pipeline_measures_slower_than_a_fast_one():
    import tensorflow as tf

    def slow(x):
        waited = tf.py_function(lambda v: (__import__("time").sleep(0.01), v)[1], [x], tf.float32)
        return tf.ensure_shape(waited, x.shape)

    base = tf.data.Dataset.from_tensor_slices(np.zeros((20, 2, 2, 1), dtype="float32"))
    slow_rate = epoch_throughput(base.map(slow), epochs=1)[0]
    fast_rate = epoch_throughput(base, epochs=1)[0]
    assert slow_rate < 150 < fast_rate  # 20 images at 10 ms each: at most 100 per second


def test_throughput_refuses_what_it_cannot_measure():
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(np.zeros((4, 2, 2, 1), dtype="float32"))
    with pytest.raises(TypeError, match="must be a tf.data.Dataset"):
        epoch_throughput(np.zeros((4, 2, 2, 1)))
    with pytest.raises(ValueError, match="repeats forever"):
        epoch_throughput(dataset.repeat())
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        epoch_throughput(dataset, epochs=0)
    with pytest.raises(TypeError, match="whole number"):
        epoch_throughput(dataset, epochs=2.5)
    grey_batch = tf.data.Dataset.from_tensor_slices(np.zeros((8, 5, 5), dtype="float32")).batch(4)
    with pytest.raises(ValueError, match=r"\(batch, height, width, channels\).*shape \(None, 5, 5\).*channel axis"):
        epoch_throughput(grey_batch)  # (N, H, W) would count as one image per batch
    with pytest.raises(ValueError, match=r"shape \(5, 5\)"):
        epoch_throughput(grey_batch.unbatch())
    as_dicts = tf.data.Dataset.from_tensor_slices({"image": np.zeros((4, 2, 2, 1)), "label": np.zeros(4)})
    with pytest.raises(TypeError, match="map it to a tuple first"):
        epoch_throughput(as_dicts)
