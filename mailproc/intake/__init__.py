"""Intake: read the mailbox, parse, classify, and take each message down its one path (flow.py)."""
