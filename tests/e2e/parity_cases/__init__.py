"""Rows of the kubectl parity table, one module per area; see tests/e2e/parity.py."""
