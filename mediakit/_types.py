"""Small shared types with no dependencies."""

from collections.abc import Callable

Progress = Callable[[int, int], None]
"""``progress(done, total)``: library code reports progress through this, never prints."""
