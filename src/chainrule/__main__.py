"""Command line: ``python -m chainrule demo``."""

from __future__ import annotations

import sys

USAGE = "usage: python -m chainrule demo"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["demo"]:
        from ._demo import main as demo

        demo()
        return 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
