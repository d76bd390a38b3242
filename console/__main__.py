"""``python -m console`` runs the vidops CLI."""

import sys

from console.cli import main

sys.exit(main())
