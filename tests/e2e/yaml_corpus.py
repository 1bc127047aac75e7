"""A seeded corpus of strings that YAML writers get wrong, for comparing kates's `-o yaml` with kubectl's.

`awkward_strings` gives every YAML 1.1 bool/null spelling in every letter case, numbers in every base and
notation, dates and timestamps (valid and almost valid), indicator characters in every position, leading and
trailing spaces, quotes, backslashes, tabs, line breaks (LF, CRLF, CR, LS, PS), unicode and emoji, control
characters, very long lines and the empty string, then seeded random mixtures of them.

Strings that kubectl itself cannot print faithfully (NEL, DEL, C1 controls, U+FFFE, U+FFFF: its JSON text holds them
raw and go-yaml's reader refuses or folds them) are left out here; `KUBECTL_LOSSY` holds them for their own test.
"""

from __future__ import annotations

import itertools
import random
import re

from kates_cli.cli.yamlresolve import key_less

KUBECTL_LOSSY = ["a\x85b", "\x85", "a\x7fb", "a\x80b", "a\x9fb", "a\ufffeb", "\uffff"]
_LOSSY = re.compile("[\x7f-\x9f\ufffe\uffff]")


def _all_cases(word: str) -> list[str]:
    return ["".join(chars) for chars in itertools.product(*[(c.lower(), c.upper()) for c in word])]


def _fixed() -> list[str]:
    out: list[str] = []
    for word in ("y", "n", "yes", "no", "on", "off", "true", "false", "null"):
        out += _all_cases(word)
    out += ["~", "<<", "=", ".inf", ".Inf", ".INF", ".iNf", "+.inf", "-.Inf", ".nan", ".NaN", ".NAN", "nan", "inf"]
    for n in (0, 1, 7, 8, 15, 255, 1000, 2**31, 2**63 - 1, 2**63, 2**64 - 1, 2**64):
        out += [str(n), f"+{n}", f"-{n}", f"0b{n:b}", f"0B{n:b}", f"-0b{n:b}", f"0o{n:o}", f"0O{n:o}", f"0{n:o}"]
        out += [f"0x{n:x}", f"0X{n:X}", f"-0x{n:x}", f"{n:_}", f"{n}.5", f"{n}e3", f"{n}E+3", f"{n}e-3"]
    out += [
        "08",
        "09",
        "0b",
        "0x",
        "0o",
        "0b-1",
        "0b+1",
        "1__0",
        "_1",
        "1_",
        "1.",
        ".5",
        "._5",
        ".5_0",
        ".5e3",
        "1e999",
        "-1e999",
        ".1e-99999",
        "1:20",
        "-1:20",
        "190:20:30.15",
        "1:60",
        "12:30:45",
        "0.",
        "+.5",
        "-.5e+3",
    ]
    out += [
        "2001-12-14",
        "2001-1-2",
        "2001-12-14t21:59:43.10-05:00",
        "2001-12-14T21:59:43Z",
        "2001-12-14 21:59:43.10",
        "2001-12-14   21:59:43",
        "2001-12-14T21:59:43,5+24:00",
        "2001-12-14T21:59:43+25:00",
        "2001-02-30",
        "2000-02-29",
        "1900-02-29",
        "2001-13-01",
        "2001-00-10",
        "2001-12-14T24:00:00Z",
        "2001-12-14x",
        "20011-12-14",
        "2001-12-14T1:2:3Z",
        "2001-12-14 21:59:43 +05:00",
        "2001-12-14T21:59:43.Z",
    ]
    for c in "-?:,[]{}#&*!|>'\"%@`":
        out += [c, f"{c}a", f"{c} a", f"a{c}", f"a{c}b", f"a {c}", f"a {c} b", f"a{c} b", c * 3, f"{c * 3} x"]
    out += [
        "...",
        "... x",
        " ",
        "  ",
        " a",
        "a ",
        " a ",
        "a  b",
        "a \tb",
        "it's",
        "'",
        "''",
        '"',
        '""',
        "a\\b",
        "\\",
        "\\n",
        "a\"b'c",
        "\t",
        "a\tb",
        "\ta",
        "a\t",
        "\n",
        "\n\n",
        "a\nb",
        "a\n",
        "a\n\n",
        "a\n\n\n",
        "\na",
        " a\nb",
        "a \nb",
        "a\n b",
        "a\n\tb",
        "a\r\nb\r\n",
        "a\rb",
        "\r",
        "a\u2028b",
        "a\u2029",
        "\u2028",
        "x\n\u2028y",
        "é",
        "日本語",
        "Ελληνικά",
        "עברית",
        "😀",
        "a😀b",
        "👩\u200d👩\u200d👧",
        "e\u0301",
        "\xa0",
        "a\xa0b",
        "\ufeffa",
        "a\ufeff",
        "\ufffd",
        "tab\there\nand 😀\n",
    ]
    out += [f"a{chr(c)}b" for c in range(0x20)]
    words = " ".join(["word"] * 40)
    out += [
        words,
        words + " ",
        " " + words,
        "x" * 300,
        "x " * 150,
        "a  " * 60,
        "\t" + words,
        "'" + words,
        words + "\n",
        (words + "\n") * 3,
        "é " * 90,
        "😀 " * 60,
        ("ab" * 50 + " ") * 4,
        "a" * 79 + " b",
        "a" * 80 + " b",
    ]
    out.append("")
    return out


def awkward_strings(seed: int, count: int) -> list[str]:
    """At least `count` distinct strings: the fixed families, then seeded mixtures of them."""
    fixed = _fixed()
    rng = random.Random(seed)
    out = list(dict.fromkeys(fixed))
    seen = set(out)
    while len(out) < count:
        parts = rng.sample(fixed, rng.randint(2, 3))
        text = rng.choice(["", " ", "\n", ": ", " #", "-"]).join(parts)
        if text not in seen:
            seen.add(text)
            out.append(text)
    return [s for s in out if not _LOSSY.search(s)]


def transitive_groups(keys: list[str], size: int) -> list[list[str]]:
    """Split keys into groups of at most `size` on which go-yaml's key order is transitive. Where it is not
    (a1b < a2 < a10 < a1b), kubectl's output depends on Go's random map order, so a byte comparison would flake."""
    groups: list[list[str]] = []
    for key in keys:
        for group in groups:
            if len(group) < size and _still_transitive(group, key):
                group.append(key)
                break
        else:
            groups.append([key])
    return groups


def _still_transitive(group: list[str], key: str) -> bool:
    """`group` is transitive; `key` keeps it so unless it closes a cycle key < b < a < key."""
    below = [a for a in group if key_less(a, key)]
    above = [b for b in group if key_less(key, b)]
    return not any(key_less(b, a) for a in below for b in above)
