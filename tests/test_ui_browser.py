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

    app, url = launch(port=_free_port(), block=False)
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
