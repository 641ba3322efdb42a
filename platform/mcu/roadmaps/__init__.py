"""Roadmaps (дорожные карты) and their measures."""
