"""``python -m cpcstats``: the same command line as the ``cpcstats`` script."""

from cpcstats.cli import main

raise SystemExit(main())
