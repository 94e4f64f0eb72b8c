"""`python -m core.explore`: see core.explore.cli."""

from core.explore.cli import main

raise SystemExit(main())
