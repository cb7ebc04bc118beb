"""`posekit ui`: the local web app (needs the optional extra posekit[ui])."""

from __future__ import annotations

import argparse

from posekit.errors import PosekitError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `ui` subcommand."""
    parser = subparsers.add_parser("ui", help="open the local web UI (convert, train, infer, track, export)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--max-upload", default="500mb", help="largest upload accepted (default 500mb)")
    parser.add_argument(
        "--root", default=".", help="folder every output of the UI must lie in (default: the current folder)"
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this host name (repeatable; default: localhost, 127.0.0.1, ::1 and "
        "--host); requests naming any other host are refused (DNS rebinding)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Start the UI and serve until Ctrl-C."""
    try:
        from posekit.ui.app import launch
    except ImportError as exc:
        raise PosekitError(f"the UI needs the optional extra: pip install 'posekit[ui]' ({exc})") from None
    launch(args.host, args.port, args.max_upload, block=True, root=args.root, allowed_host=args.allowed_host)
    return 0
