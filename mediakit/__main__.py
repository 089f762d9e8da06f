"""``python -m mediakit``."""

from mediakit.cli import main

if __name__ == "__main__":
    main()
