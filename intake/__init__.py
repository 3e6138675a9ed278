"""Reads and understands mail: bytes in, typed results out.

I/O happens only in :mod:`intake.sources`; everything else is a pure pipeline
(parse → documents → classify → extract → checks). This package never imports
``tracker`` or ``notifier``.
"""
