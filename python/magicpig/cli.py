"""Shared entry-point behaviour of the `python3 -m magicpig.*` tools."""

import sys

from magicpig.errors import MagicPigError

# Exit status for a user error (bad option, bad file), as argparse uses.
USAGE_ERROR = 2


def run_main(main, argv=None):
    """Runs `main(argv)`; a MagicPigError becomes one `error:` line + exit 2."""
    try:
        status = main(argv)
    except MagicPigError as e:
        print(f"error: {e}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0 if status is None else status


def progress(message):
    """Progress lines go to stderr so that stdout carries only results."""
    print(f"[magicpig] {message}", file=sys.stderr, flush=True)
