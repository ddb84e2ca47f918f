"""Triage: the keyword grammar, reply tokens and sender checks for administrator commands."""
