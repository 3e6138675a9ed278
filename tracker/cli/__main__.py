"""`python -m tracker.cli` is `jiebang`."""

from tracker.cli import main

main()
