"""The pieces behind `mailproc.intake.parsing.parser`: raw-byte checks, header fields, MIME parts, backends.

Callers use `mailproc.intake.parsing.parser`; these modules are private to it.
"""
