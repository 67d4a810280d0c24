"""``python -m prouie_lib.cli`` (what ``prouie`` runs)."""

import sys

from prouie_lib.cli import main

sys.exit(main())
