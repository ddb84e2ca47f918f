"""mailproc: the mailbox processor for a Primary-Secondary Care Interface Group."""

__version__ = "0.1.0"
