"""Deadlines: the Russian working calendar and due dates computed from deadline profiles."""
