"""User-facing errors: the CLI prints them as one line and exits with code 1."""

import reprlib


class PosekitError(Exception):
    """An error a user can act on; its message names the file and the problem."""


class ConfigError(PosekitError):
    """A configuration file is missing a key or holds a bad value."""


class MissingFileError(PosekitError):
    """A file the user must provide (weights, checkpoint, data) is not there."""


def _short_repr() -> reprlib.Repr:
    short = reprlib.Repr()
    short.maxlevel, short.maxlist, short.maxtuple, short.maxdict = 3, 8, 8, 6
    short.maxstring = short.maxother = short.maxlong = 60
    return short


_SHORT = _short_repr()


def brief(value: object, limit: int = 80) -> str:
    """repr(value) for an error message about a value read from a file: nested levels, items and long
    strings abbreviated (reprlib, so a huge value costs no more than its shown part), cut to `limit`."""
    text = _SHORT.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
