"""``python -m qms``: the same as the ``qms`` command."""

from qms.cli import main

if __name__ == "__main__":
    main()
