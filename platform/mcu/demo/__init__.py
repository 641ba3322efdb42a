"""Deterministic demo history for every tenant."""
