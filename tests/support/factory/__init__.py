"""Build test inputs programmatically: Word, PDF, scans, archives and raw MIME.

Nothing is checked in as a binary fixture; each builder documents the real-world
quirk it reproduces. LibreOffice-made files (real .doc, Chinese text PDFs) live
in :mod:`factory.office` because they take seconds to build.
"""
