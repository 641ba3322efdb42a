"""Audit log of changes and of views of personal data."""
