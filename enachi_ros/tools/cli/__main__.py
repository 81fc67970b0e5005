"""``python -m enachi_ros.tools.cli``: the ``enachi`` command without its console script."""

import sys

from enachi_ros.tools.cli import main

sys.exit(main())
