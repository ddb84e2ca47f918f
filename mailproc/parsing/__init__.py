"""The pieces behind `mailproc.parse`: raw-byte checks, header fields, MIME parts, backends.

Callers use `mailproc.parse`; these modules are private to it.
"""
