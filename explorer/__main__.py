"""`python -m explorer ...`: see explorer.cli."""

from explorer.cli import main

raise SystemExit(main())
