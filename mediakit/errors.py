"""Whose fault it is: the user's input, the medium, or ours.

Every message says what failed, where, and ideally what to do next; the CLI
prints ``str(exc)`` as one line and maps the class to an exit code.
"""


class MediakitError(Exception):
    """Base of every error mediakit raises on purpose."""


class InputError(MediakitError):
    """Bad user input: a missing path, an unreadable or non-DICOM file, a bad option."""


class ProfileError(InputError):
    """An unknown Application Profile, or a profile file that does not parse."""


class MediaError(MediakitError):
    """A medium damaged beyond what findings can describe."""


class InternalError(MediakitError):
    """An invariant broke: a bug in mediakit."""
