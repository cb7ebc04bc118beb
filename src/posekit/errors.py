"""User-facing errors: the CLI prints them as one line and exits with code 1."""


class PosekitError(Exception):
    """An error a user can act on; its message names the file and the problem."""


class ConfigError(PosekitError):
    """A configuration file is missing a key or holds a bad value."""


class MissingFileError(PosekitError):
    """A file the user must provide (weights, checkpoint, data) is not there."""
