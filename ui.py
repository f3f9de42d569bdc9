"""The chat page: ask, watch the answer stream, read the cited passages beside it.

Thin on purpose: the Blocks are built in ``qa.interfaces.web`` around the same chain the CLI uses.
``python ui.py [--host H] [--port P]`` is ``qa serve``; ``make run`` starts it.
"""

import sys

from qa.interfaces.cli import main

if __name__ == "__main__":
    main(["serve", *sys.argv[1:]], prog_name="ui.py")
