"""`posekit ui`: local-only bind by default, a warning for other hosts, the upload limit, the Gradio pin."""

from __future__ import annotations

import inspect
import re
import warnings

import pytest
from packaging.requirements import Requirement

gr = pytest.importorskip("gradio")
REAL_LAUNCH = gr.Blocks.launch

from devkit.shared_data import REPO  # noqa: E402
from posekit.cli.main import main  # noqa: E402

# launch() arguments of app.py that older Gradio lacks: the first release that has each, and the last without.
NEWER_LAUNCH_ARGS = {"footer_links": ("6.0.0", "5.50.0")}  # Gradio 6.0 renamed show_api to footer_links


@pytest.fixture
def launched(monkeypatch) -> list[dict]:
    """The keyword arguments of every gr.Blocks.launch call (which then returns without serving)."""
    calls: list[dict] = []

    def fake_launch(self, **kwargs):
        calls.append(kwargs)
        return None, f"http://{kwargs['server_name']}:{kwargs['server_port']}/", None

    monkeypatch.setattr(gr.Blocks, "launch", fake_launch)
    return calls


def _host_warnings(err: str) -> list[str]:
    """The host warnings the command printed (one `warning: ...` line each on stderr)."""
    return [line.removeprefix("warning: ") for line in err.splitlines() if "posekit ui listens on" in line]


def test_default_binds_to_localhost_with_the_upload_limit_and_no_warning(launched, capsys) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["ui"]) == 0
    record = capsys.readouterr().err
    assert len(launched) == 1
    args = launched[0]
    assert (args["server_name"], args["server_port"], args["max_file_size"]) == ("127.0.0.1", 7860, "500mb")
    assert args["prevent_thread_lock"] is False  # `posekit ui` serves until Ctrl-C
    assert _host_warnings(record) == []


def test_other_host_warns_and_upload_limit_is_passed(launched, capsys) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["ui", "--host", "0.0.0.0", "--port", "8123", "--max-upload", "20mb"]) == 0
    record = capsys.readouterr().err
    args = launched[0]
    assert (args["server_name"], args["server_port"], args["max_file_size"]) == ("0.0.0.0", 8123, "20mb")
    assert _host_warnings(record) == [
        "posekit ui listens on 0.0.0.0: anyone who can reach this machine can read and write files through it"
    ]


@pytest.mark.parametrize("host", ["localhost", "::1"])
def test_other_local_names_do_not_warn(launched, host, capsys) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["ui", "--host", host]) == 0
    record = capsys.readouterr().err
    assert launched[0]["server_name"] == host
    assert _host_warnings(record) == []


def test_gradio_requirement_admits_only_versions_with_every_launch_argument(launched) -> None:
    assert main(["ui"]) == 0
    used = set(launched[0])
    assert used <= set(inspect.signature(REAL_LAUNCH).parameters)
    (line,) = re.findall(r'"(gradio\b[^"]*)"', (REPO / "pyproject.toml").read_text())  # the ui extra
    requirement = Requirement(line)
    assert requirement.specifier.contains(gr.__version__)
    for name, (first, last_without) in NEWER_LAUNCH_ARGS.items():
        assert name in used
        assert requirement.specifier.contains(first) and not requirement.specifier.contains(last_without)
