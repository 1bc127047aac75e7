"""Everything that can fail locally fails while reading: manifests and patches come back as JSON kates can send, or
as one UsageError, never as an exception midway (issue 11, sections 1b and 3)."""

from __future__ import annotations

import atexit
import io
import math
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings

from kates_cli.cli.manifests import load
from kates_cli.cli.write import _parse_patch, validate_json_patch
from kates_cli.core import deepjson
from kates_cli.errors import UsageError
from tests import figures
from tests.badinput import HEADER, PATCH_TYPES, bomb, manifest_texts, patch_texts


def _load_text(tmp_path: Path, text: str | bytes) -> list[Any]:
    path = tmp_path / "in.yaml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return [m.obj for m in load([str(path)])]


def _refused(tmp_path: Path, text: str | bytes) -> str:
    with pytest.raises(UsageError) as caught:
        _load_text(tmp_path, text)
    return caught.value.message


GOOD = HEADER.format(name="good") + "data: {a: '1'}\n"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("!!binary aGVsbG8=", "a !!binary value has no JSON form"),
        ("!!set {a, b}", "a !!set has no JSON form"),
        ("&r [*r]", "an anchor's value contains itself"),
        ("&m {k: *m}", "an anchor's value contains itself"),
        ("[" * 1100 + "]" * 1100, "exceeded maximum nesting depth"),
        (".nan", "json: unsupported value: NaN"),
        (".inf", "json: unsupported value: +Inf"),
        ("-.inf", "json: unsupported value: -Inf"),
        ("!!int abc", "cannot decode !!str `abc` as a !!int"),  # ValueError from PyYAML: an internal error once
        ("!!bool maybe", "cannot decode !!str `maybe` as a !!bool"),  # KeyError
        ("!!int ''", "cannot decode !!str `` as a !!int"),  # IndexError
        ("!!timestamp x", "cannot decode !!str `x` as a !!timestamp"),  # AttributeError
    ],
)
def test_a_document_that_cannot_be_sent_fails_the_whole_input(tmp_path: Path, value: str, words: str) -> None:
    # the bad document is the last of many: before, the good ones were sent and kates crashed on this one
    text = "---\n".join(
        [GOOD.replace("good", f"good{i}") for i in range(50)] + [HEADER.format(name="bad") + f"x: {value}\n"]
    )
    message = _refused(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'in.yaml'}: document 51 (line ")
    assert words in message


def test_nan_and_infinity_are_refused_where_they_stand(tmp_path: Path) -> None:
    assert _refused(tmp_path, GOOD + "spec: {replicas: .inf}\n").endswith(
        "at spec.replicas: json: unsupported value: +Inf"
    )


def test_scalar_keys_become_their_text_as_sigs_yaml_makes_them(tmp_path: Path) -> None:
    [obj] = _load_text(tmp_path, GOOD + "x: {1: a, 2.5: b, null: c}\n")
    assert obj["x"] == {"1": "a", "2.5": "b", "null": "c"}
    assert "unhashable key" in _refused(tmp_path, GOOD + "x: {? [1, 2] : a}\n")  # a YAML error, not a crash


def test_integers_past_64_bits_become_floats_as_go_yaml_reads_them(tmp_path: Path) -> None:
    # kubectl sends 1e+23 and the server names the field that cannot hold it; kates had an internal error
    [obj] = _load_text(tmp_path, GOOD + f"x: [99999999999999999999999, 18446744073709551615, {'9' * 400}]\n")
    assert obj["x"] == [1e23, 18446744073709551615, "9" * 400]
    orjson.dumps(obj)


def test_alias_bombs_are_refused_before_they_are_expanded(tmp_path: Path) -> None:
    text = GOOD + bomb(9, 9)  # about 450 bytes; 387 million values expanded
    assert len(text) < 600
    tracemalloc.start()
    start = time.monotonic()
    try:
        message = _refused(tmp_path, text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message.endswith("yaml: document contains excessive aliasing")
    assert time.monotonic() - start < 2.0
    assert peak < 20 * 2**20


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    [obj] = _load_text(tmp_path, GOOD + "base: &b {x: 1}\nm: {<<: *b, y: 2}\nl: [*b, *b]\n")
    assert obj["m"] == {"x": 1, "y": 2} and obj["l"] == [{"x": 1}, {"x": 1}]


def test_invalid_utf8_on_stdin_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # under UTF-8 mode stdin decodes with surrogateescape: the bad byte reached the encoder as a surrogate
    raw = (GOOD + "x: '\xff'\n").encode("latin-1")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="surrogateescape"))
    with pytest.raises(UsageError, match=r"^<stdin>: not UTF-8 text \(invalid byte at offset \d+\)$"):
        load(["-"])


@pytest.mark.parametrize(
    ("patch", "words"),
    [
        ('{"data":{"a":NaN}}', "json: unsupported value: NaN"),
        ('{"data":{"a":Infinity}}', "json: unsupported value: +Inf"),
        ('[{"op":"add","path":"/data/a","value":-Infinity}]', "json: unsupported value: -Inf"),
        ("data: {a: .nan}", "json: unsupported value: NaN"),
        ('{"data":{"a":"\\ud800"}}', "surrogates not allowed"),  # orjson refused it in client.patch: internal error
        ("data: {a: !!int abc}", "cannot decode !!str `abc` as a !!int"),
    ],
)
def test_a_patch_that_cannot_be_sent_is_refused(patch: str, words: str) -> None:
    with pytest.raises(UsageError) as caught:
        _parse_patch(patch, '"p"')
    assert caught.value.message.startswith('unable to parse "p"')
    assert words in caught.value.message


def test_a_patch_alias_bomb_is_refused() -> None:
    text = bomb(9, 9)
    with pytest.raises(UsageError, match="excessive aliasing"):
        _parse_patch(text, '"p"')


# -- fuzz ---------------------------------------------------------------------------------------------------------

_COUNTS = {"manifests": 0, "patches": 0}
_TMP = Path(tempfile.mkdtemp(prefix="kates-fuzz-"))
atexit.register(shutil.rmtree, _TMP, True)  # made at import: gone at exit


def _sendable_as_is(obj: Any) -> None:
    """What will be sent decodes to what was read: no NaN turned null, no key dropped, nothing unencodable."""
    assert deepjson.loads(deepjson.dumps(obj)) == obj  # deepjson: orjson's bytes, past its 255 levels too
    stack = [obj]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            assert all(isinstance(k, str) for k in v)
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, float):
            assert math.isfinite(v)


@settings(max_examples=1200, deadline=10000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(manifest_texts())
def test_fuzzed_manifests_load_as_sendable_json_or_fail_as_usage_errors(text: bytes) -> None:
    _COUNTS["manifests"] += 1
    figures.record("fuzz", "manifests (pure)", tried=_COUNTS["manifests"], internal_errors=0, hangs=0)
    path = _TMP / "fuzz.yaml"
    path.write_bytes(text)
    try:
        manifests = load([str(path)])
    except UsageError as exc:
        assert exc.message and "\n" not in exc.message.strip()
        return
    for m in manifests:
        _sendable_as_is(m.obj)


@settings(max_examples=1200, deadline=10000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(patch_texts(), PATCH_TYPES)
def test_fuzzed_patches_parse_as_sendable_json_or_fail_as_usage_errors(text: str, patch_type: str) -> None:
    _COUNTS["patches"] += 1
    figures.record("fuzz", "patches (pure)", tried=_COUNTS["patches"], internal_errors=0, hangs=0)
    try:
        body = _parse_patch(text, '"p"')
        if patch_type == "json":
            validate_json_patch(body)
    except UsageError:
        return
    _sendable_as_is(body)


def test_sendable_walk_is_iterative_for_wide_and_deep_values() -> None:
    from kates_cli.cli import sendable

    deep: Any = "x"
    for _ in range(sendable.MAX_DEPTH):
        deep = [deep]
    sendable.to_json({"a": deep}, "doc")  # exactly at the bound: fine, and no RecursionError on the way
    with pytest.raises(UsageError, match="nests deeper"):
        sendable.to_json({"a": [deep]}, "doc")
    sendable.to_json({"a": list(range(200_000))}, "doc")
