"""What `posekit infer` prints: posekit's own lines, AlphaPose's messages and the runtime's INFO line
only with -v, warnings in one line, and native errors still shown."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from posekit import console
from posekit.cli.main import run_guarded
from posekit.errors import MissingFileError

REPO = Path(__file__).resolve().parents[1]
TFLITE_INFO = "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."


@pytest.fixture(scope="module")
def default_model_present():
    from posekit.modelstore import ensure_default_model

    try:
        ensure_default_model(auto_pull=False)
    except MissingFileError as exc:
        pytest.skip(f"default model not installed here: {exc}")


@pytest.fixture
def quiet():
    """Each test starts and ends without -v (it is process-wide)."""
    console.set_verbose(False)
    yield
    console.set_verbose(False)


def _infer_sample(outdir: Path, *flags: str) -> tuple[list[str], list[str]]:
    """`python -m posekit infer --sample` in a fresh process (stdout and stderr are pipes, as in a log
    or CI, so no progress bar); its stdout and stderr lines."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [sys.executable, "-m", "posekit", "infer", "--sample", "--outdir", str(outdir), *flags]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines(), proc.stderr.splitlines()


def _summary(outdir: Path) -> list[str]:
    """Patterns of the two lines every run ends with."""
    return [
        rf"1 frame\(s\), 1 pose\(s\) in \d+\.\d s \(\d+\.\d\d frames/s\); results: "
        rf"{re.escape(str(outdir / 'alphapose-results.json'))}",
        re.escape(f"rendered images: {outdir / 'vis'}"),
    ]


def _match(lines: list[str], patterns: list[str]) -> None:
    assert len(lines) == len(patterns), lines
    for line, pattern in zip(lines, patterns):
        assert re.fullmatch(pattern, line), (line, pattern)


def test_a_default_run_prints_only_posekits_summary(tmp_path, default_model_present):
    out = tmp_path / "result"
    stdout, stderr = _infer_sample(out)
    _match(stdout, _summary(out))
    assert stderr == []  # no TFLite INFO line, no bar when stderr is not a terminal


def test_verbose_adds_loading_alphaposes_messages_and_the_runtime_line(tmp_path, default_model_present):
    out = tmp_path / "result"
    stdout, stderr = _infer_sample(out, "-v")
    expected = [
        "Loading blazepose detector..",
        "Loading the default pose model (BlazePose landmarks -> COCO-17)...",
        "===========================> Finish Model Running.",
        "Rendering remaining images in the queue...",
        "If this step takes too long, you can enable the --vis_fast flag to use fast rendering (real-time).",
        "Results have been written to json.",
    ]
    _match(stdout, [re.escape(line) for line in expected] + _summary(out))
    assert stderr == [TFLITE_INFO]


def test_native_output_keeps_errors_and_drops_info_lines(capfd, quiet):
    """What a runtime writes to fd 2 while a model loads: its INFO lines are dropped, anything else
    is passed on (after the block); with -v nothing is held."""
    with console.native_info_hidden():
        os.write(2, f"{TFLITE_INFO}\nERROR: Didn't find op for builtin opcode 'X'\n".encode())
        os.write(2, b"WARNING: something odd\nINFO: more\n")
    assert capfd.readouterr().err == "ERROR: Didn't find op for builtin opcode 'X'\nWARNING: something odd\n"
    console.set_verbose(True)
    with console.native_info_hidden():
        os.write(2, f"{TFLITE_INFO}\n".encode())
    assert capfd.readouterr().err == f"{TFLITE_INFO}\n"


def test_native_output_is_passed_on_when_the_load_fails(capfd, quiet):
    with pytest.raises(ValueError, match="broken"), console.native_info_hidden():
        os.write(2, b"ERROR: the model is broken\n")
        raise ValueError("broken")
    assert capfd.readouterr().err == "ERROR: the model is broken\n"
    os.write(2, b"fd 2 is back\n")
    assert capfd.readouterr().err == "fd 2 is back\n"


def test_detail_lines_only_with_verbose(capsys, quiet):
    console.detail("hidden")
    console.set_verbose(True)
    console.detail("shown")
    assert capsys.readouterr().out == "shown\n"


def test_commands_print_a_warning_in_one_line_and_set_verbose(capsys, quiet):
    import argparse

    def run(args) -> int:
        warnings.warn("--vis needs a display window", stacklevel=1)
        return 0 if console.is_verbose() == args.verbose else 3

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert run_guarded(run, argparse.Namespace(verbose=True)) == 0
        assert run_guarded(run, argparse.Namespace(verbose=False)) == 0
    assert capsys.readouterr().err == "warning: --vis needs a display window\n" * 2
