"""Needs, matches and the regional dialogue (issue 14)."""
