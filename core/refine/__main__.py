"""`python -m core.refine`: see core.refine.cli."""

from core.refine.cli import main

raise SystemExit(main())
