"""`python -m csat` and the `csat` command."""

import sys


def run() -> None:
    """Import the CLI inside the guard: Ctrl-C while Python loads it is an ordinary
    interruption (exit 130), not a KeyboardInterrupt traceback."""
    try:
        from csat.cli import main

        main()
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        raise SystemExit(130) from None


if __name__ == "__main__":
    run()
