"""Record Go's text/template output (the template printer's engine, with kubectl's exists/base64decode) for the
templates in cases.txt (separated by lines of `=====`) over DATA, into ../go-template-cases.json:

    cd tests/unit/data/gotemplate_probe && go mod init probe && go build -o /tmp/probe . && python record.py /tmp/probe
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
DATA = {
    "a": {"b": [1, 2.5, "x", None, True, {"k": "v"}], "m": {"z": 1, "y": {"q": 1e21}}, "n": None},
    "n": 3,
    "f": 1.5,
    "s": "hé<>&'\"",
    "e": "",
    "l": [],
    "big": 12345678901,
    "neg": -7,
    "b64": "aGk=",
}

if __name__ == "__main__":
    templates = [t for t in (HERE / "cases.txt").read_text().split("\n=====\n") if t]
    data = json.dumps(DATA)
    out = subprocess.run([sys.argv[1], json.dumps([[t, data] for t in templates])], capture_output=True, text=True)
    results = json.loads(out.stdout)
    rows = [{"template": t, "go": r} for t, r in zip(templates, results, strict=True)]
    (HERE.parent / "go-template-cases.json").write_text(json.dumps({"data": DATA, "cases": rows}, indent=1) + "\n")
