"""Where user-provided and cached model files live, and finding them with a helpful error."""

from __future__ import annotations

import os
from pathlib import Path

from posekit.errors import MissingFileError


def user_cache_dir() -> Path:
    """posekit's cache folder: $POSEKIT_HOME, else $XDG_CACHE_HOME/posekit, else ~/.cache/posekit."""
    if os.environ.get("POSEKIT_HOME"):
        return Path(os.environ["POSEKIT_HOME"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "posekit"


def models_dir() -> Path:
    """Folder for model files posekit manages (the embedded default model, user weights copied in)."""
    return user_cache_dir() / "models"


def find_user_file(seed_path: str, explicit: str | None = None, what: str = "weights file") -> Path:
    """Find a user-provided file: the explicit path, else `seed_path` under the working directory,
    else its file name in the posekit models folder. Raises MissingFileError saying where to put it.
    """
    where = (
        f"put {Path(seed_path).name} at ./{seed_path} or in {models_dir()} (or pass its path); "
        "`posekit models list` shows every model file and where it goes"
    )
    if explicit:
        path = Path(explicit).expanduser()
        if path.is_file():
            return path
        if path.is_dir():
            raise MissingFileError(f"{what}: {path} is a folder, not a file (the path given); {where}")
        raise MissingFileError(f"{what} not found: {path} (the path given); {where}")
    candidates = [Path.cwd() / seed_path, models_dir() / Path(seed_path).name]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise MissingFileError(f"{what} missing: {where}")
