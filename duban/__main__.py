"""``python -m duban``: the same as the ``duban`` command."""

from duban.tui.entry import main

main()
