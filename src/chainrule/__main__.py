"""``python -m chainrule``: the command line (``demo``, ``check``, ``draw``; see ``_cli``)."""

from __future__ import annotations

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
