"""An iterator read one item ahead, in a thread: the next page of a list is asked for while this one is printed.

A chunked list is a chain of requests (each page's `continue` token asks for the next), so without read-ahead the
API server idles while the client turns a page into text, and the client idles while the server reads and encodes
the next page. `read_ahead(pages)` overlaps the two.

Invariants:
- Items come out in order, each exactly once; an exception raised by the source comes out where it was raised,
  after every item before it (so a list cut short after its first pages still reads as one).
- At most one item is held ahead of the consumer: the worker starts on item k+1 only once the consumer has taken
  item k, so a list's memory is at most two pages, whatever its length.
- Closing the returned generator (or leaving it, an exception in the consumer) stops the worker: it takes nothing
  more from the source, and the source is closed in the worker's thread, which is a daemon (a request in flight
  never holds up the process's exit). What the source asked for on its own account (a list's next page, sent
  early: core/client.py `_page_bodies`) is the source's to drop when it is closed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of a list's start (bench B1)
if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")

_END = object()


def read_ahead(source: Iterator[T]) -> Iterator[T]:
    """The items of `source`, each asked for as soon as the consumer has taken the one before."""
    ready: queue.Queue[tuple[object, BaseException | None]] = queue.Queue()
    wanted = threading.Semaphore(1)  # one token: the item being fetched, or ready and not yet taken
    stop = threading.Event()

    def work() -> None:
        try:
            while True:
                wanted.acquire()
                if stop.is_set():
                    return
                try:
                    item: object = next(source)
                except StopIteration:
                    ready.put((_END, None))
                    return
                except BaseException as exc:  # handed to the consumer, raised there
                    ready.put((_END, exc))
                    return
                ready.put((item, None))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    threading.Thread(target=work, name="kates-read-ahead", daemon=True).start()
    try:
        while True:
            item, exc = ready.get()
            if exc is not None:
                raise exc
            if item is _END:
                return
            wanted.release()  # fetch the next one while this one is used
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        wanted.release()
