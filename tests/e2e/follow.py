"""`kates logs ARGS` run in the background for the logs tests, its output collected line by line as it comes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


class Follow:
    """`kates logs ARGS` in the background, its stdout and stderr lines collected as they come."""

    def __init__(self, kubeconfig: Path, cache_dir: Path, args: list[str]):
        env = dict(os.environ, KUBECONFIG=str(kubeconfig), KATES_CACHE_DIR=str(cache_dir), NO_COLOR="1")
        env.pop("KATES_NAMESPACE", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kates_cli", "logs", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self.seen: dict[str, float] = {}  # first time each stdout or stderr line was seen
        for stream, sink in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()

    def _pump(self, stream: object, sink: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            text = line.rstrip("\n")
            self.seen.setdefault(text, time.monotonic())
            sink.append(text)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)
