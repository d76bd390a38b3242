"""Helpers shared by the functional tests (importable because pytest's pythonpath has tests/)."""
