"""The README's Python example, run exactly as written (read from README.md), on the astronaut photo with
the embedded default model."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from posekit.errors import MissingFileError
from posekit.io.images import sample_image_path

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_python_example() -> str:
    """The first ```python block after the README's "## From Python" heading."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## From Python") :]
    found = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert found, "README.md: no python block under '## From Python'"
    return found.group(1)


def test_the_example_is_short_and_uses_the_public_api():
    code = readme_python_example()
    assert len([line for line in code.splitlines() if line.strip()]) <= 6  # ruff format adds a blank
    assert "posekit.load()" in code and 'pipe("photo.jpg")' in code and 'pipe.stream("photos/")' in code


def test_the_readme_example_runs_on_the_astronaut(tmp_path, monkeypatch, capsys):
    from posekit.modelstore import ensure_default_model

    try:
        ensure_default_model(auto_pull=False)
    except MissingFileError as exc:
        pytest.skip(f"default model not installed here: {exc}")
    shutil.copyfile(sample_image_path(), tmp_path / "photo.jpg")  # a png under a .jpg name decodes fine
    (tmp_path / "photos").mkdir()
    shutil.copyfile(sample_image_path(), tmp_path / "photos" / "astronaut.png")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(readme_python_example(), str(README), "exec"), namespace)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "(1, 17, 2)"  # one astronaut
    assert lines[1].startswith("astronaut.png (1, 17, 2) [")
    single, streamed = namespace["result"], namespace["people"]
    np.testing.assert_array_equal(single.keypoints, streamed.keypoints)  # call and stream agree
    nose = single.keypoints[0, 0]
    assert 200 < nose[0] < 245 and 95 < nose[1] < 140  # her nose, where the photo has it
    assert namespace["name"] == "astronaut.png" and namespace["image"].shape == (512, 512, 3)
