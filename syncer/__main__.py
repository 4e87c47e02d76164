from __future__ import annotations

from syncer.cli import main

raise SystemExit(main())
