"""The kubectl fixture drops client-go's info and warning log lines from kubectl's stderr, and only those."""

from __future__ import annotations

from tests.e2e.conftest import without_klog_noise

SHORT_WATCH = (
    'I1205 01:48:57.088159    8250 reflector.go:664] "Warning: watch ended with error" '
    'reflector="k8s.io/client-go/tools/watch/informerwatcher.go:162" err="very short watch"\n'
)


def test_info_and_warning_lines_go() -> None:
    message = "error: timed out waiting for the condition on configmaps/here\n"
    assert without_klog_noise(SHORT_WATCH + message) == message
    assert without_klog_noise("W0102 03:04:05.000006 1 warnings.go:70] x\n" + message) == message


def test_errors_fatal_lines_and_messages_stay() -> None:
    kept = "F1204 12:00:00.000000     123 sorter.go:329] Field {.x} in x\nE1204 12:00:00.000000 1 a.go:1] b\n"
    assert without_klog_noise(kept) == kept
    warning = "Warning: v1 ComponentStatus is deprecated\n"
    assert without_klog_noise(warning) == warning
    assert without_klog_noise("I1205 is not a log line\n") == "I1205 is not a log line\n"
