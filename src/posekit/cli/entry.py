"""The `posekit` console script: Ctrl-C at any moment, the start-up imports included, is one line."""

from __future__ import annotations

import sys


def main() -> int:
    """Import the command line and run it; a KeyboardInterrupt anywhere prints "interrupted" (exit 130)."""
    try:
        from posekit.cli.main import main as run

        return run()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
