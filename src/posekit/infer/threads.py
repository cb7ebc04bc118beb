"""Run a generator stage on its own thread, handing items over a bounded queue."""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import TypeVar

T = TypeVar("T")
_POLL_S = 0.1


class _End:
    """The producer's last hand-over: `items` is exhausted."""


_END = _End()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def threaded(items: Iterable[T], maxsize: int, name: str = "stage") -> Generator[T, None, None]:
    """Iterate `items` on a daemon thread; yield its items here, at most `maxsize` waiting in between.

    An exception in the thread is re-raised here. Closing this generator (or an exception in the
    consumer, such as Ctrl-C) stops the thread at its next hand-over and closes `items`, so chains of
    threaded stages shut down from the consumer end without hanging.
    """
    handover: queue.Queue[T | _Failure | _End] = queue.Queue(maxsize=max(1, int(maxsize)))
    stop = threading.Event()

    def put(item: T | _Failure | _End) -> bool:
        while not stop.is_set():
            try:
                handover.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:
            put(_Failure(exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name=f"posekit-{name}", daemon=True)
    worker.start()
    try:
        while True:
            try:
                item = handover.get(timeout=_POLL_S)
            except queue.Empty:
                if not worker.is_alive() and handover.empty():
                    raise RuntimeError(f"pipeline stage {name!r} stopped without finishing") from None
                continue
            if isinstance(item, _End):
                break
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        worker.join(timeout=5.0)
