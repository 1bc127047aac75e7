"""One page of a chunked list as the API server sent it: its bytes, and its `continue` token read without parsing them.

A chunked list is a chain of requests: each page's `metadata.continue` asks for the next. Parsing a whole page to
find that token (about 1.6 MB for 1000 ConfigMaps) made the thread that fetches pages also parse them, so the API
server sat idle while the client parsed. The API server writes a typed list's `kind`, `apiVersion` and `metadata`
(ListMeta: flat strings and one integer) before its items, so the token is in the first few hundred bytes; a custom
resource's list (keys sorted: `apiVersion`, `items`, `kind`, `metadata`) has it in the last few hundred.
`continue_token` reads it there; the page is parsed later, where it is used (core/client.py `list_pages`).

Invariants:
- `continue_token(body)` is exactly `json.loads(body)["metadata"].get("continue") or None` (a `str`, or None when
  the page is the last) whenever it returns anything but UNKNOWN. It returns UNKNOWN for any body whose top-level
  metadata it cannot place with certainty: not at the head or the tail in the shapes above, a metadata object that
  is not flat, a token that is not a string, invalid JSON there. The caller then parses the whole body: never a
  wrong token.
- `head_token(start)`, for any `start` that begins a body, is MORE, UNKNOWN, or exactly what `continue_token` gives
  for that whole body; it is never MORE once `start` holds HEAD_BYTES bytes. So a page's successor can be asked for
  as soon as the page's first bytes arrive (core/client.py `_page_bodies`).
- Only the first and last HEAD_BYTES bytes are looked at: the cost does not grow with the page.
"""

from __future__ import annotations

import re

import orjson

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of a list's start (bench B1)
if TYPE_CHECKING:
    from typing import Final

HEAD_BYTES: Final = 4096
UNKNOWN: Final = object()  # the token could not be read without parsing the whole body
MORE: Final = object()  # head_token: the bytes so far are too few to tell

# `{"kind":"ConfigMapList","apiVersion":"v1","metadata":{...},` at the very start (Go's order for typed lists);
# key and value strings without escapes, and a metadata object holding no other object
_HEAD = re.compile(rb'\{"kind":"[A-Za-z0-9]*","apiVersion":"[A-Za-z0-9./-]*","metadata":(\{[^{}]*\})[,}]')
# `,"kind":"WidgetList","metadata":{...}}` at the very end (sorted keys: an unstructured list); the metadata is the
# top-level object's last member, since the final `}` closes the top level and what precedes it is flat
_TAIL = re.compile(rb',"kind":"[A-Za-z0-9]*","metadata":(\{[^{}]*\})\}\s*\Z')


def head_token(start: bytes) -> str | object | None:
    """The continue token from the first bytes of a page, as soon as they hold it: what `continue_token` gives for
    the whole body whenever its head holds the token (the head's pattern is matched from the first byte and ends
    where the metadata does, so bytes after it cannot change it). MORE while `start` is too short to tell, UNKNOWN
    when the head is not a typed list's (the token is then read from the whole body)."""
    found = _HEAD.match(start, 0, HEAD_BYTES)
    if found is None:
        return MORE if len(start) < HEAD_BYTES else UNKNOWN
    return _token(found.group(1))


def continue_token(body: bytes) -> str | object | None:
    """The page's continue token (None on the last page), or UNKNOWN when it cannot be read without parsing."""
    found = _HEAD.match(body, 0, HEAD_BYTES)
    if found is None:
        start = max(0, len(body) - HEAD_BYTES)
        found = _TAIL.search(body, start)
    if found is None:
        return UNKNOWN
    return _token(found.group(1))


def _token(metadata_text: bytes) -> str | object | None:
    try:
        metadata = orjson.loads(metadata_text)
    except orjson.JSONDecodeError:
        return UNKNOWN
    token = metadata.get("continue")
    if token is None or isinstance(token, str):
        return token or None
    return UNKNOWN
