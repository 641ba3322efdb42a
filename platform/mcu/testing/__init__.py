"""Helpers for the test suite and `make test` (not imported by the running platform)."""
