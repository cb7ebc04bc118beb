"""Entry point of the `posekit` command: builds the parser from the subcommand modules and runs one."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from posekit import __version__, console
from posekit.cli import annotate, batch, convert, evaluate, export, infer, models, track, train, ui, validate
from posekit.errors import PosekitError

# Each module defines register(subparsers) (flags only, no heavy imports) and run(args) -> int.
SUBCOMMANDS: list = [convert, annotate, train, evaluate, validate, export, models, infer, batch, track, ui]


def build_parser() -> argparse.ArgumentParser:
    """The full `posekit` parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="posekit",
        description="Multi-person 2D pose estimation: convert, annotate, train, validate, eval, infer, "
        "batch, track, export.",
    )
    parser.add_argument("--version", action="version", version=f"posekit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `posekit`; user errors print one line `error: ...` and return 1."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    return run_guarded(args.run, args)


def run_guarded(run, args: argparse.Namespace) -> int:
    """Call run(args), turning PosekitError, an OSError (naming its file) and Ctrl-C into a one-line
    message and an exit code.

    The console is set up first: warnings as one `warning: ...` line that leaves a progress bar
    intact, and -v (args.verbose) for posekit's extra lines (posekit.console)."""
    hooks = warnings.formatwarning, warnings.showwarning
    warnings.formatwarning = _one_line_warning
    warnings.showwarning = console.show_warning
    console.set_verbose(getattr(args, "verbose", False))
    try:
        return int(run(args) or 0)
    except PosekitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a file the code did not expect to fail (permissions, a folder, a FIFO ...)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except MemoryError:
        print("error: out of memory (an input larger than this machine can hold?)", file=sys.stderr)
        return 1
    finally:
        warnings.formatwarning, warnings.showwarning = hooks  # a caller of main() keeps its own


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"warning: {message}\n"


if __name__ == "__main__":
    raise SystemExit(main())
