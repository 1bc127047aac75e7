"""kyamlout against kubectl's own KYAML encoder (sigs.k8s.io/yaml/kyaml v1.6.0, built from the Go module cache as
the control plane is): thousands of seeded JSON values, byte for byte. The only differences allowed are the two
documented departures (kyamlout's docstring): a string holding DEL, C1 controls, U+FFFE or U+FFFF, which go-yaml v3
refuses to read back from kubectl's JSON, and NEL, which it folds to a space."""

from __future__ import annotations

import json
import random
import re
import subprocess
from typing import Any

from kates_cli.cli.kyamlout import dump
from tests import figures
from tests.e2e.yaml_corpus import KUBECTL_LOSSY, awkward_strings
from tests.godiff.build import go_program

SEED = 15
CASES = 3000
LOSSY = re.compile("[\x7f-\x9f\ufffe\uffff]")
EXTRA = [
    "1e400",
    "0x1p-2",
    "-nan",
    "infinity",
    "+Inf",
    "2024-02-29",
    "2023-02-29",
    "2024-1-2",
    "1:20",
    "-1:20:30.5",
    "1_000",
    "0b101",
    "0o17",
    "a\tb",
    "\tlead",
    " lead",
    "trail ",
    "x\n",
    "\n",
    "\n\n",
    "a\r\nb",
    "\u2028",
    "é",
    "ǅ",
    "Ⅻ",
    "٣",
    "a-",
    "-a",
    ".a",
    "a.",
    "/",
    "a/b",
    "_",
    "~",
    "NULL",
    "Yes",
    "yES",
    "y",
    "Y",
    "t",
    "1",
    "0",
]


def _number(rng: random.Random) -> int | float:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.randrange(-1000, 1000)
    if kind == 1:
        return rng.choice([2**63 - 1, -(2**63), 2**63, 2**64 - 1, 2**64, 10**20, 10**21, 10**25, -(10**30)])
    if kind == 2:
        return rng.uniform(-1e3, 1e3)
    if kind == 3:
        return rng.choice([0.0, -0.0, 1.0, 0.5, 1e-6, 9.99e-7, 1e21, 9.99e20, 1e-300, 1.7976931348623157e308])
    return float(f"{rng.randrange(1, 10 ** rng.randrange(1, 17))}e{rng.randrange(-40, 40)}")


def _value(rng: random.Random, strings: list[str], depth: int) -> Any:
    kind = rng.randrange(9 if depth < 5 else 5)
    if kind <= 1:
        return rng.choice(strings)
    if kind == 2:
        return _number(rng)
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return rng.choice([{}, [], ""])
    if kind <= 6:
        return {rng.choice(strings): _value(rng, strings, depth + 1) for _ in range(rng.randrange(1, 5))}
    return [_value(rng, strings, depth + 1) for _ in range(rng.randrange(1, 5))]


def test_kyaml_matches_kubectls_encoder_on_generated_values() -> None:
    rng = random.Random(SEED)
    strings = awkward_strings(SEED, 800) + EXTRA + KUBECTL_LOSSY
    docs = [_value(rng, strings, 0) for _ in range(CASES)]
    docs += [{s: s} for s in strings]  # every string once as a key and as a value
    lines = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    proc = subprocess.run([go_program("kyaml")], input=lines.encode(), capture_output=True, check=True, timeout=120)
    theirs = proc.stdout.decode().split("\0")[:-1]
    assert len(theirs) == len(docs)
    same = departed = 0
    differ = []
    for doc, text in zip(docs, theirs, strict=True):
        mine = dump(doc)
        if mine == text:
            same += 1
        elif LOSSY.search(json.dumps(doc, ensure_ascii=False)):
            departed += 1  # go-yaml refused or folded what kubectl's JSON held raw
        else:
            differ.append((doc, mine, text))
    figures.record("kyaml", "differential (Go kyaml encoder)", identical=same, departures=departed, total=len(docs))
    assert not differ, differ[:3]
