"""Allow ``python -m contigmap``."""

from contigmap.cli import main

if __name__ == "__main__":
    main()
