"""Train tab: `posekit train` in a background thread, with the live log, the curves and a Stop button.

A run belongs to the browser session that started it: Stop ends that session's run only (the stop events
are kept per Gradio session hash). Each run writes its own work folder <exp id>-<cfg name>/ under the
UI's root; training refuses a folder holding another run (see posekit.train.workdir), so a second run
never overwrites the first one's checkpoint.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from posekit.ui.common import friendly_errors, output_folder, required_path

REFRESH_SECONDS = 2.0
LOG_LINES = 40
_STOPS: dict[str, threading.Event] = {}  # session hash -> the stop event of that session's run
_STOPS_LOCK = threading.Lock()


def _session(request: gr.Request | None) -> str:
    """The browser session an event comes from ("local" when called without Gradio, as in tests)."""
    return getattr(request, "session_hash", None) or "local"


def _stop_event(session: str) -> threading.Event:
    with _STOPS_LOCK:
        return _STOPS.setdefault(session, threading.Event())


def log_tail(path: Path, lines: int = LOG_LINES) -> str:
    """The last `lines` lines of a log file ("" while it does not exist yet)."""
    if not path.is_file():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def train_options(
    cfg_path: str,
    batch: float,
    epochs: float,
    pretrained: str,
    try_load: str,
    exp_id: str,
    work_root: str,
    stop_event: threading.Event | None = None,
):
    """TrainOptions as `posekit train` builds them, with the session's stop event."""
    from posekit.config import load_config
    from posekit.train.loop import TrainOptions
    from posekit.train.workdir import check_exp_id

    exp_id = check_exp_id((exp_id or "default").strip())
    overrides = {"TRAIN.BATCH_SIZE": int(batch), "TRAIN.END_EPOCH": int(epochs)}
    cfg = load_config(required_path(cfg_path, "config"), overrides)
    return TrainOptions(
        cfg=cfg,
        exp_id=exp_id,
        pretrained=(pretrained or "").strip(),
        try_load=(try_load or "").strip(),
        work_root=output_folder(work_root, "work folder"),
        stop_event=stop_event,
        # data loading in the UI's own process: no worker processes forked from a server whose inference
        # runtimes (OpenVINO, LiteRT) run threads; loading is a few % of a CPU training step
        num_workers=0,
    )


@friendly_errors
def run_train(
    cfg_path: str,
    batch: float,
    epochs: float,
    pretrained: str,
    try_load: str,
    exp_id: str,
    work_root: str,
    request: gr.Request | None = None,
) -> Iterator[tuple[str, str, str | None]]:
    """Train in a thread; yield (status, log tail, curves image) every few seconds until it ends."""
    from posekit.train.loop import train

    stop = _stop_event(_session(request))
    stop.clear()
    opts = train_options(cfg_path, batch, epochs, pretrained, try_load, exp_id, work_root, stop)
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["summary"] = train(opts)
        except Exception as exc:  # shown in the page below
            outcome["error"] = exc

    # the thread runs in a copy of this context: its writes stay confined to the UI's root
    thread = threading.Thread(
        target=contextvars.copy_context().run, args=(work,), name="posekit-ui-train", daemon=True
    )
    thread.start()
    log, curves = opts.work_dir / "training.log", opts.work_dir / "curves.png"
    while thread.is_alive():
        thread.join(REFRESH_SECONDS)
        yield f"Training in `{opts.work_dir}`...", log_tail(log), str(curves) if curves.is_file() else None
    if "error" in outcome:
        raise outcome["error"]
    summary = outcome["summary"]
    state = (
        f"Stopped. `{summary.work_dir / 'checkpoint.pth'}` holds the last finished epoch: resume with it as "
        "Pretrained."
        if summary.stopped
        else f"Finished: `{summary.work_dir / 'final_DPG.pth'}`"
    )
    yield state, log_tail(log), str(curves) if curves.is_file() else None


def stop_train(request: gr.Request | None = None) -> str:
    """Ask this session's running training to stop after its current step (other sessions' go on)."""
    _stop_event(_session(request)).set()
    return "Stopping after the current step..."


def build() -> None:
    """The Train tab's components and events."""
    gr.Markdown(
        "Train FastPose as `posekit train` does. **Stop** ends training after the current step; "
        "`checkpoint.pth` of the last finished epoch stays in the work folder and resumes training when "
        "given as *Pretrained*."
    )
    with gr.Row():
        cfg = gr.Textbox(
            label="Config (.yaml)",
            value="configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml",
            elem_id="train-cfg",
        )
        exp_id = gr.Textbox(label="Experiment id", value="default", elem_id="train-exp")
        work_root = gr.Textbox(
            label="Work folder (<exp id>-<cfg name>/ inside)", value="exp", elem_id="train-work"
        )
    with gr.Row():
        batch = gr.Number(value=32, precision=0, minimum=1, label="Batch size", elem_id="train-batch")
        epochs = gr.Number(
            value=270, precision=0, minimum=1, label="Epochs (END_EPOCH)", elem_id="train-epochs"
        )
    with gr.Accordion("Start from weights", open=False), gr.Row():
        pretrained = gr.Textbox(
            label="Pretrained (strict load, or checkpoint.pth to resume)", elem_id="train-pretrained"
        )
        try_load = gr.Textbox(label="Try-load (matching layers only)", elem_id="train-tryload")
    with gr.Row():
        start = gr.Button("Start training", variant="primary", elem_id="train-run")
        stop = gr.Button("Stop", variant="stop", elem_id="train-stop")
    status = gr.Markdown(elem_id="train-status")
    with gr.Row():
        log = gr.Textbox(
            label="training.log (last lines)", lines=12, max_lines=12, elem_id="train-log", autoscroll=True
        )
        curves = gr.Image(label="Loss / accuracy / mAP", type="filepath", height=300, elem_id="train-curves")
    start.click(
        run_train, [cfg, batch, epochs, pretrained, try_load, exp_id, work_root], [status, log, curves]
    )
    stop.click(stop_train, None, status, concurrency_limit=None)
