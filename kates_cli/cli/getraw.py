"""`kates get --raw PATH`: one GET to the API server, its body on stdout byte for byte, as kubectl's rawhttp.RawGet.

Invariants:
- GET only, through the same transport as every other read (kubeconfig's auth, TLS, proxy, compression).
- The body is copied as it arrives, each chunk flushed (a long body is not held in memory, a stream is live);
  nothing is added, not even a line break.
- A non-2xx answer prints nothing on stdout: it is the matching KatesError, so the exit code says what went wrong
  (4 for 404, 5 for 401/403, ...), with the server's Status message, or, for a body that is no Status, client-go's
  generic words for the code (apimachinery's NewGenericServerResponse), as kubectl prints them.
- kubectl's refusals come first, in its order and words: arguments, filtering or watching flags, -o, a path that is
  not a URL path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..errors import ApiError, UsageError

if TYPE_CHECKING:
    from .state import State

ACCEPT = "application/json, */*"  # client-go's default for a RESTClient without a negotiated type


def check(path: str, args: list[str], filtering: bool, output: str | None) -> str:
    """kubectl's Complete/Validate checks for --raw; the request URI to send."""
    if args:
        raise UsageError("arguments may not be passed when --raw is specified")
    if filtering:
        raise UsageError(
            "--raw may not be specified with other flags that filter the server request or alter the output"
        )
    if output:
        raise UsageError("--raw and --output are mutually exclusive")
    parts = urlsplit(path)
    if not path.startswith("/") and not parts.scheme:
        raise UsageError(f'--raw must be a valid URL path: parse "{path}": invalid URI for request')
    if parts.scheme:  # a whole URL: kubectl sends its path and query to the configured server
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return path


_GENERIC = {
    400: "the server rejected our request for an unknown reason",
    401: "the server has asked for the client to provide credentials",
    404: "the server could not find the requested resource",
    405: "the server does not allow this method on the requested resource",
    409: "the server reported a conflict",
    422: "the server rejected our request due to an error in our request",
    429: "the server has received too many requests and has asked us to try again later",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted, but may still be processing the request",
}


def generic_message(code: int, body: str) -> str:
    """client-go's message for an answer whose body is no Status (`body`: the server's text, trimmed)."""
    if code in _GENERIC:
        return _GENERIC[code]
    if code in (403, 415):
        return body
    if code == 406:
        unable = "the server was unable to respond with a content type that the client supports"
        return body if body and body != "unknown" else unable
    if code >= 500:
        quoted = '"' + body.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"an error on the server ({quoted}) has prevented the request from succeeding"
    return f"the server responded with the status code {code} but did not return more information"


def get_raw(state: State, uri: str) -> None:
    client = state.client()
    out = state.env.stdout
    binary = getattr(out, "buffer", None)
    try:
        response = client.transport.open("GET", uri, accept=ACCEPT)
    except ApiError as exc:
        if exc.status is not None and exc.status.get("kind") == "Status":
            raise
        raise type(exc)(generic_message(exc.code, exc.message), code=exc.code, reason=exc.reason) from None
    try:
        out.flush()
        for chunk in response.chunks():
            if binary is not None:
                binary.write(chunk)
                binary.flush()  # a streaming path (?watch=1) shows each chunk as it comes, as kubectl's io.Copy
            else:
                out.write(chunk.decode(errors="replace"))
    finally:
        response.close()
