"""The posekit web UI: one local page with a tab per workflow step, every action calling the library."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from posekit.ui import tab_convert, tab_export, tab_infer, tab_track, tab_train, tab_validate
from posekit.ui.common import set_root
from posekit.ui.hostguard import allowed_hosts, guard_lifespan

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
TABS = [
    ("Convert", tab_convert),
    ("Train", tab_train),
    ("Validate", tab_validate),
    ("Infer", tab_infer),
    ("Track", tab_track),
    ("Export", tab_export),
]


def build_app() -> gr.Blocks:
    """The whole UI as a gr.Blocks app."""
    with gr.Blocks(title="posekit", analytics_enabled=False) as app:
        gr.Markdown("# posekit\nConvert → Train → Validate → Infer → Track → Export")
        for title, module in TABS:
            with gr.Tab(title, id=title.lower(), elem_id=f"tab-{title.lower()}"):
                module.build()
    return app


def launch(
    host: str = "127.0.0.1",
    port: int = 7860,
    max_upload: str = "500mb",
    block: bool = True,
    root: str | Path | None = None,
    allowed_host: Iterable[str] = (),
):
    """Serve the UI, writing only below `root` (default: the working folder); warn when it is reachable
    from other machines. Requests are answered only for the loopback names, `host` and the names in
    `allowed_host` (posekit.ui.hostguard). Returns (app, url)."""
    set_root(root if root is not None else Path.cwd())
    if host not in LOCAL_HOSTS:
        warnings.warn(
            f"posekit ui listens on {host}: anyone who can reach this machine can read and write files "
            "through it",
            stacklevel=2,
        )
    app = build_app()
    app.queue(default_concurrency_limit=1)
    _, url, _ = app.launch(
        server_name=host,
        server_port=port,
        max_file_size=max_upload,
        prevent_thread_lock=not block,
        quiet=not block,
        show_error=True,
        footer_links=[],
        app_kwargs={"lifespan": guard_lifespan(allowed_hosts(host, allowed_host))},
    )
    return app, url
