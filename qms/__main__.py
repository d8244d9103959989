"""``python -m qms``: the same as the ``qms`` command."""

from qms.cli import run

if __name__ == "__main__":
    run()
