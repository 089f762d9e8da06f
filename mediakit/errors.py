"""Whose fault it is: the user's input, the medium, or ours.

Every message says what failed, where, and ideally what to do next; the CLI
prints ``str(exc)`` as one line and maps the class to an exit code.
"""

import errno


class MediakitError(Exception):
    """Base of every error mediakit raises on purpose."""


class InputError(MediakitError):
    """Bad user input: a missing path, an unreadable or non-DICOM file, a bad option."""


class ProfileError(InputError):
    """An unknown Application Profile, or a profile file that does not parse."""


class DamagedFileError(InputError):
    """A DICOM file ('DICM' at byte 128) that cannot be read: cut short or garbled.

    Unlike a file that is not DICOM at all, it is reported as the finding ``code``
    (P109 truncated, P106 unparsable) with ``detail``, never skipped.
    """

    def __init__(self, where: str, code: str, detail: str) -> None:
        super().__init__(f"{where}: {detail}")
        self.code = code
        self.detail = detail


class MediaError(MediakitError):
    """A medium damaged beyond what findings can describe.

    ``code``, when given, is the finding one file of the medium gets for it (a
    damaged ZIP member is V308, a ZIP bomb S405): that file is reported, the rest
    of the medium is still read.
    """

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class InternalError(MediakitError):
    """An invariant broke: a bug in mediakit."""


def os_reason(exc: OSError) -> str:
    """Why a file operation failed, in words; a full disk (or quota) says so plainly.

    Libraries that re-raise an OSError with a longer message (pydicom adds the tag
    and a traceback) keep the original as ``__cause__``: its errno is the one told.
    """
    while exc.errno is None and isinstance(exc.__cause__, OSError):
        exc = exc.__cause__
    text = exc.strerror or (str(exc).splitlines() or [type(exc).__name__])[0]
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full ({text})"
    return text
