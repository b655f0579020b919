"""The command line: argparse verbs (``cli.parser``), each a few lines calling the public API
(``cli.verbs``).

The only package that prints or exits. Errors of the package become one line on stderr and
exit status 2; there is no traceback for bad input.
"""

from __future__ import annotations

import logging
import sys

from .parser import build_parser

EXIT_BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    from ..errors import SimplechromeError

    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="simplechrome: %(levelname)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except SimplechromeError as exc:
        print(f"simplechrome: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # unreadable input or unwritable output named by the user
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"simplechrome: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("simplechrome: interrupted", file=sys.stderr)
        return 130


__all__ = ["EXIT_BAD_INPUT", "build_parser", "main"]
