"""Run the command-line interface: ``python -m assetmap``."""

from assetmap.cli import main

raise SystemExit(main())
