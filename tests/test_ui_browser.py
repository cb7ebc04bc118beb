"""The web UI driven in a real browser (Debian's Chromium through Playwright)."""

from __future__ import annotations

import json
import os
import shutil
import socket

import pytest

pytest.importorskip("gradio")
sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed on CI (.ci/run installs it)", pytrace=False)
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

pytestmark = pytest.mark.browser
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def ui_url():
    from posekit.ui.app import launch

    app, url = launch(port=_free_port(), block=False, root="/tmp")  # the tests write below /tmp
    yield url
    app.close()


@pytest.fixture(scope="module")
def page(ui_url):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(ui_url)
        yield page
        browser.close()


def _open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def _fill(page, elem_id: str, value: str) -> None:
    field = page.locator(f"#{elem_id} textarea, #{elem_id} input").first
    field.fill(value)


def test_convert_tab_writes_coco_files(page, tmp_path):
    from posekit.convert.sample import write_sample_labelme

    write_sample_labelme(tmp_path / "labelme", count=10, seed=3)
    (tmp_path / "labelme" / "broken.json").write_text("{not json")
    out = tmp_path / "out"
    _open_tab(page, "Convert")
    _fill(page, "convert-input", str(tmp_path / "labelme"))
    _fill(page, "convert-output", str(out))
    page.locator("#convert-run").click()
    result = page.locator("#convert-result")
    result.get_by_text("8 for training, 2 for validation").wait_for(timeout=60_000)
    assert "broken.json" in result.inner_text()
    train = json.loads((out / "coco/annotations/person_keypoints_train2017.json").read_text())
    val = json.loads((out / "coco/annotations/person_keypoints_val2017.json").read_text())
    assert (len(train["images"]), len(val["images"])) == (8, 2)
    assert len(list((out / "coco/train2017").iterdir())) == 8
    page.screenshot(path=str(tmp_path / "convert.png"))


def test_error_shows_as_message_not_traceback(page):
    _fill(page, "convert-input", "/nonexistent/folder")
    _fill(page, "convert-output", "/tmp/posekit-ui-unused")
    page.locator("#convert-run").click()
    message = page.get_by_text("input folder not found").first
    message.wait_for(timeout=30_000)
    assert "Traceback" not in page.content()


def test_infer_tab_renders_the_astronaut_photo(page, tmp_path):
    from posekit.io.images import sample_image_path

    out = tmp_path / "infer"
    _open_tab(page, "Infer")
    page.locator("#infer-files input[type=file]").set_input_files(str(sample_image_path()))
    _fill(page, "infer-output", str(out))
    page.locator("#infer-run").click()
    page.locator("#infer-result").get_by_text("1 frame(s), 1 pose(s)").wait_for(timeout=60_000)
    assert (out / "inputs" / "astronaut.png").is_file()
    assert (out / "vis" / "astronaut.png").is_file()
    results = json.loads((out / "alphapose-results.json").read_text())
    assert [r["image_id"] for r in results] == ["astronaut.png"]
    image = page.locator("#infer-gallery img").first
    image.wait_for(timeout=30_000)
    assert image.evaluate("img => img.complete && img.naturalWidth") == 512
    downloads = page.locator("#infer-downloads")
    downloads.wait_for(timeout=10_000)
    assert "alphapose-results.json" in downloads.inner_text().replace("\n", "")
    page.screenshot(path="/tmp/ui/infer.png", full_page=True)


def test_train_tab_streams_the_log_and_finishes(page, tmp_path, coco_mini):
    from tests.test_ui_actions import _tiny_cfg

    cfg = _tiny_cfg(coco_mini, tmp_path)
    _open_tab(page, "Train")
    _fill(page, "train-cfg", str(cfg))
    _fill(page, "train-exp", "browser")
    _fill(page, "train-work", str(tmp_path / "exp"))
    _fill(page, "train-batch", "4")
    _fill(page, "train-epochs", "2")
    page.locator("#train-run").click()
    page.locator("#train-status").get_by_text("Finished").wait_for(timeout=120_000)
    work = tmp_path / "exp" / "browser-tiny.yaml"
    assert (work / "final_DPG.pth").is_file() and (work / "curves.png").is_file()
    log = page.locator("#train-log textarea").input_value()
    assert "Train-1 epoch | loss:" in log and "gt mAP" in log
    page.locator("#train-curves img").wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "train.png"), full_page=True)


def test_export_tab_writes_onnx_and_shows_atc(page, tmp_path):
    import torch

    from posekit.config import load_config
    from posekit.models.builder import build_pose_model

    cfg_path = "configs/tests/tiny_res18_128x96.yaml"
    cfg = load_config(cfg_path)
    torch.manual_seed(0)
    torch.save(build_pose_model(cfg.model, cfg.data_preset).state_dict(), tmp_path / "tiny.pth")
    onnx_path = tmp_path / "exported" / "tiny.onnx"
    _open_tab(page, "Export")
    _fill(page, "export-cfg", cfg_path)
    _fill(page, "export-checkpoint", str(tmp_path / "tiny.pth"))
    _fill(page, "export-output", str(onnx_path))
    page.locator("#export-run").click()
    page.locator("#export-result").get_by_text("Wrote").wait_for(timeout=60_000)
    assert onnx_path.stat().st_size > 100_000
    atc = page.locator("#export-atc").inner_text()
    assert "atc" in atc and str(onnx_path) in atc and "--insert_op_conf" in atc
    assert (tmp_path / "exported" / "tiny_aipp_rgb_atc.sh").is_file()
    page.screenshot(path="/tmp/ui/export.png", full_page=True)
