"""Allow ``python -m imagetrust``."""

from imagetrust.cli import main

raise SystemExit(main())
