"""Security of the web UI: requests naming a foreign host or origin (DNS rebinding, cross-site pages) are
refused before Gradio sees them, checked with raw HTTP against a real server; and no write of a UI
action follows a symlink out of the UI's root, however deep the symlink sits."""

from __future__ import annotations

import http.client
import json
import socket
from pathlib import Path

import cv2
import numpy as np
import pytest

gr = pytest.importorskip("gradio")

from posekit.errors import PosekitError  # noqa: E402
from posekit.infer.options import OutputOptions  # noqa: E402
from posekit.infer.outputs import RenderedOutputs  # noqa: E402
from posekit.infer.run import run_inference  # noqa: E402
from posekit.infer.sources import open_images  # noqa: E402
from posekit.io.atomic import atomic_write_text, confined_writes  # noqa: E402
from posekit.train.workdir import claim  # noqa: E402
from posekit.ui import common  # noqa: E402
from posekit.ui.app import launch  # noqa: E402
from posekit.ui.hostguard import allowed_hosts, check_request  # noqa: E402
from tests.pipeline_fakes import FakeDetector, FakePoseModel  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real UI on 127.0.0.1 (root: a temp folder) that also answers for `pose.lan`; stopped after."""
    port = _free_port()
    app, _ = launch(
        "127.0.0.1", port, block=False, root=tmp_path_factory.mktemp("root"), allowed_host=["pose.lan"]
    )
    yield port
    app.close()
    common._ROOT.clear()


def _request(port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None):
    """(status, headers lower-cased, body) of one raw HTTP request with exactly these headers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for key, value in headers.items():
        conn.putheader(key, value)
    conn.putheader("Content-Length", str(len(body or b"")))
    conn.endheaders(body)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "pose.lan", "LOCALHOST"])
def test_loopback_and_allowed_names_are_served(server, host):
    status, _, body = _request(server, "GET", "/config", {"Host": f"{host}:{server}"})
    assert status == 200 and json.loads(body)["mode"] == "blocks"


@pytest.mark.parametrize(
    "host", ["evil.example", "127.0.0.1.evil.example", "localhost.evil", "", "pose.lan.x"]
)
def test_foreign_hosts_are_refused_before_gradio(server, host):
    headers = {"Host": f"{host}:{server}" if host else "", "Origin": f"http://{host}:{server}"}
    payload = json.dumps({"data": [None, None, "/etc", "", "", "", "", "out"]}).encode()
    status, response, body = _request(
        server, "POST", "/gradio_api/call/run_infer", {**headers, "Content-Type": "application/json"}, payload
    )
    assert status == 403
    assert body.decode().startswith("posekit ui: host ") and body.decode().count("\n") == 1
    assert "access-control-allow-origin" not in response
    status, _, _ = _request(server, "GET", "/config", {"Host": f"{host}:{server}"})
    assert status == 403


@pytest.mark.parametrize(
    "origin",
    ["http://evil.example:{port}", "http://localhost:1", "null", "file://", "http://pose.lan.evil:{port}"],
)
def test_foreign_origins_are_refused_and_preflights_never_reflect_them(server, origin):
    origin = origin.format(port=server)
    preflight = {
        "Host": f"127.0.0.1:{server}",
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    status, response, body = _request(server, "OPTIONS", "/gradio_api/call/run_infer", preflight)
    assert status == 403 and b"origin" in body
    assert not any(key.startswith("access-control-") for key in response)
    status, response, _ = _request(
        server, "GET", "/config", {"Host": f"localhost:{server}", "Origin": origin}
    )
    assert status == 403 and "access-control-allow-origin" not in response


def test_the_ui_own_origin_is_served(server):
    status, response, _ = _request(
        server, "GET", "/config", {"Host": f"localhost:{server}", "Origin": f"http://localhost:{server}"}
    )
    assert status == 200 and response["access-control-allow-origin"] == f"http://localhost:{server}"


def test_allowed_hosts_and_the_request_check():
    allowed = allowed_hosts("0.0.0.0", [" Pose.LAN ", ""])
    assert allowed == {"localhost", "127.0.0.1", "::1", "pose.lan"}  # a wildcard bind adds no name
    assert allowed_hosts("192.168.1.5") == {"localhost", "127.0.0.1", "::1", "192.168.1.5"}
    assert check_request({b"host": b"pose.lan:80"}, "http", allowed) is None
    assert check_request({b"host": b"pose.lan", b"origin": b"http://pose.lan"}, "http", allowed) is None
    assert check_request({b"host": b"pose.lan:x"}, "http", allowed) is not None  # unparsable port
    assert check_request({}, "http", allowed) is not None  # no Host header at all


# ---------------------------------------------------------------- writes confined to the UI root


def _images(folder: Path, count: int = 2) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(count):
        path = folder / f"{k}.png"
        cv2.imwrite(str(path), np.full((40, 56, 3), 60 * (k + 1), dtype=np.uint8))
        paths.append(path)
    return paths


@pytest.fixture
def root(tmp_path):
    (tmp_path / "root").mkdir()
    root = common.set_root(tmp_path / "root")
    yield root
    common._ROOT.clear()


@pytest.fixture
def elsewhere(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("elsewhere")


def _ui_infer(paths: list[Path], outdir: Path, fmt: str | None = None):
    """Inference as a UI action runs it: wrapped by friendly_errors (writes confined to the root)."""
    action = common.friendly_errors(
        lambda: run_inference(
            open_images(paths),
            FakeDetector(),
            FakePoseModel(),
            OutputOptions(outdir=str(outdir), format=fmt or "coco"),
            outputs=RenderedOutputs(outdir, save_img=True, save_video=False),
            progress=False,
            log=lambda message: None,
        )
    )
    return action()


def test_a_vis_symlink_out_of_the_root_is_refused(root, tmp_path, elsewhere):
    out = common.output_folder("out")
    (out / "vis").symlink_to(elsewhere)
    with pytest.raises(gr.Error, match=rf"resolves to {elsewhere}/0\.png, outside {root}"):
        _ui_infer(_images(tmp_path / "in"), out)
    assert list(elsewhere.iterdir()) == []


def test_a_sep_json_symlink_to_a_missing_folder_out_of_the_root_is_refused(root, tmp_path, elsewhere):
    out = common.output_folder("out")
    (out / "sep-json").symlink_to(elsewhere / "made")
    with pytest.raises(gr.Error, match="outside"):
        _ui_infer(_images(tmp_path / "in"), out, fmt="cmu")
    assert list(elsewhere.iterdir()) == []  # not even the missing folder was created


def test_a_work_folder_symlink_out_of_the_root_is_refused(root, elsewhere):
    work_root = common.output_folder("exp")
    (work_root / "default-tiny.yaml").symlink_to(elsewhere)
    with (
        confined_writes(root),
        pytest.raises(PosekitError, match="outside"),
        claim(work_root / "default-tiny.yaml"),
    ):
        pass
    assert list(elsewhere.iterdir()) == []


def test_a_training_log_symlink_out_of_the_root_is_refused(root, elsewhere):
    from posekit.train.loop import _logger

    work_dir = common.output_folder("exp/default-tiny.yaml")
    (work_dir / "training.log").symlink_to(elsewhere / "stolen.log")
    with confined_writes(root), pytest.raises(PosekitError, match="outside"):
        _logger(work_dir / "training.log", True)
    assert list(elsewhere.iterdir()) == []


def test_writes_inside_the_root_and_outside_a_ui_action_are_unchanged(root, tmp_path, elsewhere):
    summary = _ui_infer(_images(tmp_path / "in"), common.output_folder("out"))
    assert summary.frames == 2 and sorted(p.name for p in (root / "out" / "vis").iterdir()) == [
        "0.png",
        "1.png",
    ]
    atomic_write_text(elsewhere / "cli.txt", "the command line is not confined")
    assert (elsewhere / "cli.txt").is_file()


def test_the_allowed_host_flag_reaches_the_server(monkeypatch):
    from posekit.cli.main import main
    from posekit.ui import app

    calls: list[dict] = []
    monkeypatch.setattr(app, "launch", lambda *args, **kwargs: calls.append({"args": args, **kwargs}))
    assert main(["ui", "--allowed-host", "pose.lan", "--allowed-host", "box.local"]) == 0
    assert calls[0]["allowed_host"] == ["pose.lan", "box.local"]
