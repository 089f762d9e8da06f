"""Small shared types with no dependencies."""

from collections.abc import Callable

Progress = Callable[[int, int], None]
"""``progress(done, total)``: library code reports progress through this, never prints."""

Stages = Callable[[str], Progress | None]
"""``stages(name)``: a long job announces each stage by name ("reading", "copying", ...)
and reports that stage's progress through the :data:`Progress` it gets back (or None).
Calling it again ends the previous stage."""
