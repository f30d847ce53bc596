"""What we ship: committed notebooks carry no absolute paths, user names, tokens or keys.

Outputs and metadata of every notebook in solutions/ and notebooks/ are scanned (cell sources
are the course's code and are reviewed as such). Images are skipped: base64 can spell anything.
The scanner itself is tested on planted leaks and on innocent look-alikes.
"""

from __future__ import annotations

import getpass
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "solutions").glob("*.ipynb")) + sorted(
    (ROOT / "notebooks").glob("*.ipynb")
)
BINARY_MIME_PREFIXES = ("image/", "application/pdf", "video/", "audio/")

LEAKS = {
    "absolute path of a user's home": r"(?<![\w.])/(?:root|home/[^/\s\"']+|Users/[^/\s\"']+)(?=[/\s\"',:]|$)",
    "Windows user folder": r"[A-Za-z]:\\\\?(?:Users|Documents and Settings)\\\\?",
    "temporary path": r"(?<![\w.])/(?:tmp|var/folders|private/var)/",
    "this checkout's absolute path": re.escape(str(ROOT)),
    "path into an installed Python": r"(?:site|dist)-packages[/\\]",
    "token in a URL": r"[?&](?:token|access_token|api_key|apikey|key)=[^&\s\"']{6,}",
    "password or secret assignment": r"(?i)\b(?:password|passwd|secret|api[_-]?key)\b\s*[:=]\s*['\"]?[^\s'\"]{6,}",
    "AWS access key": r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    "GitHub token": r"\bgh[pousr]_[A-Za-z0-9]{30,}\b",
    "OpenAI-style key": r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}\b",
    "Hugging Face token": r"\bhf_[A-Za-z0-9]{30,}\b",
    "Slack token": r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b",
    "Google API key": r"\bAIza[0-9A-Za-z_-]{35}\b",
    "private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "Jupyter server token": r"\b[0-9a-f]{48}\b",
}


def _user_name_pattern() -> str | None:
    try:
        user = getpass.getuser()
    except Exception:  # no user name available
        return None
    # Short or common names ("root", "user") would match ordinary words; paths catch them.
    return None if len(user) < 5 or user in {"runner", "jovyan", "ubuntu"} else re.escape(user)


def _texts(value, where: str):
    """Yield (location, text) for every string in a notebook's JSON, skipping binary outputs."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, list):
        if value and all(isinstance(v, str) for v in value):
            yield where, "".join(value)
        else:
            for index, item in enumerate(value):
                yield from _texts(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.startswith(BINARY_MIME_PREFIXES):
                continue
            yield from _texts(item, f"{where}.{key}")


def find_leaks(notebook: dict) -> list[str]:
    """Return 'location: kind: excerpt' for each leak in a notebook's outputs and metadata."""
    patterns = dict(LEAKS)
    user = _user_name_pattern()
    if user:
        patterns["user name"] = rf"\b{user}\b"
    compiled = {kind: re.compile(pattern) for kind, pattern in patterns.items()}
    places = [("metadata", notebook.get("metadata", {}))]
    for index, cell in enumerate(notebook.get("cells", [])):
        places.append((f"cell {index} metadata", cell.get("metadata", {})))
        places.append((f"cell {index} outputs", cell.get("outputs", [])))
        places.append((f"cell {index} attachments", cell.get("attachments", {})))
    found = []
    for where, value in places:
        for location, text in _texts(value, where):
            for kind, pattern in compiled.items():
                match = pattern.search(text)
                if match:
                    start = max(match.start() - 30, 0)
                    excerpt = text[start : match.end() + 30].replace("\n", " ")
                    found.append(f"{location}: {kind}: ...{excerpt}...")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[f"{p.parent.name}/{p.stem}" for p in NOTEBOOKS])
def test_committed_notebook_outputs_and_metadata_leak_nothing(path):
    leaks = find_leaks(json.loads(path.read_text(encoding="utf-8")))
    assert not leaks, (
        f"{path.relative_to(ROOT)} would publish private details; change the code so its "
        "output shows relative paths and no secrets, then re-execute it:\n" + "\n".join(leaks)
    )


def _notebook_with_output(text: str, *, mime: str = "text/plain") -> dict:
    output = {"output_type": "execute_result", "data": {mime: text}, "metadata": {}}
    return {"metadata": {}, "cells": [{"cell_type": "code", "metadata": {}, "outputs": [output]}]}


@pytest.mark.parametrize(
    "text",
    [
        "saved to /root/.keras/models/cnn.keras",
        "FileNotFoundError: /home/alice/course/data/slope",
        "open('/Users/bob/Desktop/x.png')",
        "C:\\Users\\carol\\course\\data",
        "wrote /tmp/tmpabc123/slope/manifest.csv",
        "/var/folders/xy/T/tmp1/file.png",
        f"{ROOT}/data/slope",
        "UserWarning: .venv/lib/python3.11/site-packages/keras/src/trainers/trainer.py:1",
        "http://127.0.0.1:8888/lab?token=3f9a1c0d2b7e4f6a8c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
        "API_KEY = 'abcd1234efgh5678'",
        "password: hunter2hunter2",
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_" + "a1B2" * 9,
        "sk-" + "Ab3_" * 6,
        "hf_" + "abcdef" * 6,
        "-----BEGIN RSA PRIVATE KEY-----",
    ],
)
def test_scanner_catches_planted_leaks(text):
    assert find_leaks(_notebook_with_output(text)), text
    nested = {"metadata": {"widgets": {"state": [{"note": text}]}}, "cells": []}
    assert find_leaks(nested), text


@pytest.mark.parametrize(
    "text",
    [
        "test accuracy: 0.972 on 360 unseen digits",
        "the tokenizer splits text into tokens",
        "keras.layers.Conv2D(32, 3) has 896 parameters",
        "data/slope/manifest.csv (relative path)",
        "a password is not needed; the course runs offline",
        "Model: \"digit_cnn\" | Total params: 6,090 (23.79 KB)",
        "ratio 1/tmp_scale",
    ],
)
def test_scanner_lets_ordinary_output_through(text):
    assert find_leaks(_notebook_with_output(text)) == []


def test_scanner_skips_images_but_not_their_captions():
    assert find_leaks(_notebook_with_output("iVBORw0K/tmp/AAAA", mime="image/png")) == []
    assert find_leaks(_notebook_with_output("/tmp/x.png", mime="text/html"))
