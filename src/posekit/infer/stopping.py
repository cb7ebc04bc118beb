"""Holding Ctrl-C (SIGINT) and SIGTERM while one frame's outputs are written, so that a stop never
leaves a frame half written: its results entry and its rendering are both on disk, or neither is."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_signals_held() -> Iterator[None]:
    """Inside, SIGINT and SIGTERM are only noted; on leaving, the first one noted is raised again, so
    its usual handler (KeyboardInterrupt, the CLI's SIGTERM handler, or the default action) runs then.

    Outside the main thread, where Python handles no signals, this does nothing. A signal whose
    handler was not installed from Python is left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    previous = {}
    for number in STOP_SIGNALS:
        if signal.getsignal(number) is not None:
            previous[number] = signal.signal(number, lambda signum, frame: noted.append(signum))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if noted:
            signal.raise_signal(noted[0])
