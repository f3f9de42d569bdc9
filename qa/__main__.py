"""``python -m qa`` is the ``qa`` command."""

from qa.interfaces.cli import main

main()
