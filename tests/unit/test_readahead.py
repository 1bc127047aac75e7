"""core/readahead.py: pages asked for one ahead of the consumer, in order, errors where they happened."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from kates_cli.core.readahead import read_ahead
from tests.conftest import wait_for


class Source:
    """A page source that records how far it has been asked, and can fail at one page."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n = n
        self.fail_at = fail_at
        self.asked = 0
        self.closed = threading.Event()

    def pages(self) -> Iterator[int]:
        try:
            for i in range(self.n):
                self.asked = i + 1
                if i == self.fail_at:
                    raise RuntimeError(f"page {i} refused")
                yield i
        finally:
            self.closed.set()


def test_items_come_in_order_and_the_source_is_closed() -> None:
    src = Source(50)
    assert list(read_ahead(src.pages())) == list(range(50))
    assert src.closed.wait(5)


def test_the_next_page_is_asked_for_while_the_consumer_holds_one_and_no_further() -> None:
    src = Source(10)
    pages = read_ahead(src.pages())
    assert next(pages) == 0
    wait_for(lambda: src.asked == 2, timeout=5)  # page 1 read ahead while page 0 is in use
    # the worker waits for page 1 to be taken: it never asks for page 2 meanwhile
    assert not src.closed.wait(0.2) and src.asked == 2
    assert next(pages) == 1
    wait_for(lambda: src.asked == 3, timeout=5)
    pages.close()
    assert src.closed.wait(5) and src.asked == 3


def test_an_error_comes_out_after_every_page_before_it() -> None:
    src = Source(10, fail_at=3)
    got = []
    with pytest.raises(RuntimeError, match="page 3 refused"):
        for page in read_ahead(src.pages()):
            got.append(page)
    assert got == [0, 1, 2]


def test_a_consumer_that_fails_stops_the_worker() -> None:
    src = Source(1000)
    with pytest.raises(ValueError):
        for page in read_ahead(src.pages()):
            if page == 5:
                raise ValueError("printing failed")
    assert src.closed.wait(5)
    assert src.asked <= 7
