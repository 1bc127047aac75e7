"""Bad input for the fuzz tests of issue 11 section 3: manifests, patches and durations, as hypothesis strategies
(the e2e tests draw theirs derandomized, so the CLI sees the same inputs on every run)."""

from __future__ import annotations

from hypothesis import strategies as st

HEADER = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


def bomb(width: int, levels: int) -> str:
    """The billion-laughs shape: each level lists the one before `width` times."""
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


# values kates must refuse (or send as kubectl would) wherever they appear in a document
FRAGMENTS = [
    ".nan",
    ".NaN",
    ".inf",
    "-.Inf",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!float nan",
    "!!python/object:os.system x",
    "99999999999999999999999",
    "-99999999999999999999999",
    "1e400",
    "9" * 400,
    "&r [*r]",
    "&m {k: *m}",
    "{? [1, 2] : x}",
    "{? {a: 1} : x}",
    "{1: a, 2.5: b, true: c, null: d}",
    "{a: 1, a: 2}",
    "[" * 300 + "]" * 300,
    "[" * 6000,
    "{a: " * 260 + "x" + "}" * 260,
    "!!timestamp 2001-12-14",
    "!!int abc",  # explicit tags whose value PyYAML's constructors refuse with no YAMLError (internal errors once)
    "!!bool maybe",
    "!!int ''",
    "!!timestamp x",
    "!!float x",
    "!!int 09",
    "*undefined",
    "'unterminated",
    '"\\ud800"',
    "\t- tab",
]

VALUES = st.sampled_from(FRAGMENTS) | st.builds(
    lambda w, n: "\n" + bomb(w, n).replace("\n", "\n  "), st.integers(2, 12), st.integers(2, 9)
)
FIELDS = st.sampled_from(["data", "x", "spec", "metadata", "kind", "apiVersion", "metadata.labels"])


def _place(field: str, value: str) -> str:
    if field == "metadata.labels":
        return HEADER.format(name="f") + f"  labels: {value}\n"
    if field in ("metadata", "kind", "apiVersion"):
        rest = HEADER.format(name="f").replace(f"{field}:", f"{field}-was:", 1)
        return rest + f"{field}: {value}\n"
    return HEADER.format(name="f") + f"{field}: {value}\n"


@st.composite
def manifest_texts(draw: st.DrawFn) -> bytes:
    """One input file: some good documents, then one holding a bad value, or raw bytes mutated at random."""
    good = draw(st.integers(0, 3))
    docs = [HEADER.format(name=f"good{i}") + "data: {a: '1'}\n" for i in range(good)]
    kind = draw(st.sampled_from(["fragment", "mutated", "bytes"]))
    if kind == "fragment":
        docs.append(_place(draw(FIELDS), draw(VALUES)))
        text = "---\n".join(docs).encode()
    elif kind == "mutated":
        base = bytearray("---\n".join([*docs, HEADER.format(name="m") + "data: {a: '1', b: [1, 2]}\n"]).encode())
        for _ in range(draw(st.integers(1, 6))):
            at = draw(st.integers(0, len(base)))
            byte = draw(st.integers(0, 255))
            op = draw(st.sampled_from(["insert", "replace", "delete"]))
            if op == "insert":
                base[at:at] = bytes([byte])
            elif at < len(base):
                base[at : at + 1] = b"" if op == "delete" else bytes([byte])
        text = bytes(base)
    else:
        text = draw(st.binary(max_size=200))
    return text


PATCH_TYPES = st.sampled_from(["strategic", "merge", "json"])


@st.composite
def patch_texts(draw: st.DrawFn) -> str:
    """A -p value: JSON with NaN, infinities, huge numbers or deep nesting; YAML with the bad fragments; or junk."""
    kind = draw(st.sampled_from(["json", "yaml", "jsonpatch", "text"]))
    if kind == "json":
        value = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "9" * 40, '"x"', "null", "[]", "{}"]))
        depth = draw(st.integers(0, 300))
        return '{"data":' * depth + f'{{"a":{value}}}' + "}" * depth
    if kind == "yaml":
        return f"data: {{a: {draw(st.sampled_from(FRAGMENTS))}}}"
    if kind == "jsonpatch":
        op = draw(st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "bogus", ""]))
        path = draw(st.sampled_from(["/data/a", "data", "", "/~2", "/a/-", None]))
        value = draw(st.sampled_from(["NaN", "1", '"x"', "Infinity", None]))
        parts = [f'"op":"{op}"']
        if path is not None:
            parts.append(f'"path":"{path}"')
        if value is not None:
            parts.append(f'"value":{value}')
        return "[{" + ",".join(parts) + "}]"
    return draw(st.text(max_size=60))


DURATION_TEXTS = st.text(alphabet=st.sampled_from(list("0123456789.+-smhnuµμd\u0661 e")), max_size=30) | st.text(
    max_size=30
)
