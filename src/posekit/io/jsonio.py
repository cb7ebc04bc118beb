"""Reading JSON files with one clear error naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from posekit.errors import PosekitError


def read_json(path: str | Path, what: str = "file") -> Any:
    """Parse a JSON file; PosekitError '<path>: <what> not found' or '<path>: not valid JSON (...)'."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PosekitError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise PosekitError(f"{path}: is a folder, expected a {what}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PosekitError(f"{path}: not valid JSON ({exc})") from None
