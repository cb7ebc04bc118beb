"""The `posekit` console script: Ctrl-C at any moment, the start-up imports included, is one line."""

from __future__ import annotations

import os
import sys

INTERRUPTED = 130


def main() -> int:
    """Import the command line and run it; a KeyboardInterrupt anywhere prints "interrupted" (exit 130)."""
    try:
        from posekit.cli.main import main as run

        code = run()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = INTERRUPTED
    if code == INTERRUPTED:  # the outputs are closed; end now, whatever a runtime left to do with the signal
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(INTERRUPTED)
    return code
