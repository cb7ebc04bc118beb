"""The defaults README.md states for `posekit.load(...)` are the code's (posekit.InferOptions())."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from posekit.infer.options import InferOptions

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_stated_defaults() -> dict[str, object]:
    """Every `name=value` the README's paragraph on posekit.load's defaults gives, value parsed."""
    text = README.read_text(encoding="utf-8")
    start = text.index("`posekit.load(...)` takes the options")
    paragraph = text[start : text.index("\n\n", start)]
    stated = re.findall(r"`(\w+)=([^`]+)`", paragraph)
    return {name: ast.literal_eval(value) for name, value in stated}


def test_the_readme_states_the_main_defaults():
    stated = readme_stated_defaults()
    assert {"detector", "pose_model", "backend", "tracker", "det_interval", "detbatch"} <= set(stated)


def test_every_default_the_readme_states_is_the_codes():
    options = InferOptions().flat()
    for name, value in readme_stated_defaults().items():
        assert name in InferOptions.names(), f"README names an option posekit.load does not have: {name}"
        assert options[name] == value, f"README says {name}={value!r}, the code has {options[name]!r}"
