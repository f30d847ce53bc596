"""The shipped pretrained backbone: verified before loading, loaded safely, reproducible.

Loading must refuse a file whose checksum differs from its card's, with a message that says how
to get a good file back, and must leave the refused file as it was. Safe mode must be on: a
model file that stores code (a Lambda layer) is refused even when its checksum is right.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from course_utils import arithmetic, backbone

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = backbone.PRETRAINED_DIR / backbone.BACKBONE_FILENAME


@pytest.fixture
def copy_of_shipped(tmp_path) -> Path:
    target = tmp_path / SHIPPED.name
    shutil.copy(SHIPPED, target)
    shutil.copy(backbone.card_path(SHIPPED), backbone.card_path(target))
    return target


def test_shipped_backbone_matches_its_card_and_loads_frozen():
    card = backbone.load_backbone_card()
    assert backbone.file_sha256(SHIPPED) == card["sha256"]
    for key in ("trained_on", "epochs", "source_test_accuracy", "training_seconds", "command", "parameters"):
        assert key in card, key
    assert card["source_test_accuracy"] >= 0.9, card["source_test_accuracy"]
    assert card["command"].startswith("python data_scripts/pretrain_backbone.py")
    model = backbone.load_pretrained_backbone()
    assert model.trainable is False
    assert model.count_params() == card["parameters"] <= 300_000
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 64)
    assert backbone.load_pretrained_backbone(trainable=True).trainable is True


def test_architecture_parameter_count_matches_the_course_arithmetic():
    model = backbone.build_backbone()
    expected, channels = 0, 3
    for filters in backbone.BLOCK_FILTERS:
        for _ in range(2):
            expected += arithmetic.conv2d_params(3, channels, filters, use_bias=False)
            expected += arithmetic.batchnorm_params(filters)
            channels = filters
    assert model.count_params() == expected
    names = [layer.name for layer in model.layers]
    assert "block3_conv2" in names and "block3_bn2" in names and names[-1] == "features"


def test_a_tampered_file_is_refused_with_a_fix_and_left_untouched(copy_of_shipped):
    data = bytearray(copy_of_shipped.read_bytes())
    data[len(data) // 2] ^= 0x01
    copy_of_shipped.write_bytes(bytes(data))
    with pytest.raises(backbone.BackboneIntegrityError) as info:
        backbone.load_pretrained_backbone(copy_of_shipped)
    message = str(info.value)
    assert "changed or damaged" in message and "git checkout" in message
    assert "pretrain_backbone.py" in message
    assert copy_of_shipped.read_bytes() == bytes(data)  # nothing lost or "repaired" behind our back


def test_a_card_for_another_file_is_refused(copy_of_shipped):
    card_file = backbone.card_path(copy_of_shipped)
    card = json.loads(card_file.read_text())
    card["sha256"] = "0" * 64
    card_file.write_text(json.dumps(card))
    with pytest.raises(backbone.BackboneIntegrityError, match="its card says 0000"):
        backbone.load_pretrained_backbone(copy_of_shipped)


@pytest.mark.parametrize(
    "card_text, fragment",
    [("{not json", "not valid JSON"), ('{"trained_on": "x"}', "no 'sha256'"), ("[1, 2]", "no 'sha256'")],
)
def test_a_broken_card_is_refused(copy_of_shipped, card_text, fragment):
    backbone.card_path(copy_of_shipped).write_text(card_text)
    with pytest.raises(backbone.BackboneIntegrityError, match=fragment):
        backbone.load_pretrained_backbone(copy_of_shipped)


def test_missing_files_name_the_path_and_the_rebuild_command(copy_of_shipped, tmp_path):
    with pytest.raises(FileNotFoundError, match="pretrain_backbone.py"):
        backbone.load_pretrained_backbone(tmp_path / "nowhere.keras")
    backbone.card_path(copy_of_shipped).unlink()
    with pytest.raises(FileNotFoundError, match="card"):
        backbone.load_pretrained_backbone(copy_of_shipped)


def test_safe_mode_refuses_a_file_that_stores_code_even_with_a_matching_checksum(tmp_path):
    import keras

    inputs = keras.Input(shape=(32, 32, 3))
    outputs = keras.layers.Lambda(lambda x: x * 2.0)(inputs)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    backbone.card_path(path).write_text(json.dumps({"sha256": backbone.file_sha256(path)}))
    with pytest.raises(ValueError, match="safe_mode"):
        backbone.load_pretrained_backbone(path)


def _pretrain(out: Path) -> dict:
    command = [sys.executable, str(ROOT / "data_scripts" / "pretrain_backbone.py"),
               "--out", str(out), "--images", "300", "--epochs", "1", "--quiet"]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "source-task test accuracy" in result.stdout and "training" in result.stdout
    return json.loads((out / "patterns_backbone.json").read_text())


@pytest.mark.slow  # two pretraining runs, ~30 s
def test_pretraining_is_deterministic_and_its_output_loads(tmp_path):
    first, second = _pretrain(tmp_path / "a"), _pretrain(tmp_path / "b")
    assert first["weights_sha256"] == second["weights_sha256"]
    assert first["command"].endswith("--images 300 --epochs 1 --quiet")
    model = backbone.load_pretrained_backbone(tmp_path / "a" / "patterns_backbone.keras")
    features = np.asarray(model(np.zeros((2, 32, 32, 3), "float32")))
    assert features.shape == (2, 64) and np.all(np.isfinite(features))
    assert not list((tmp_path / "a").glob("*.partial*"))
