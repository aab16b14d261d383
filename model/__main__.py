"""Entry point of ``python -m model``: hands over to `model.cli.main`."""

import sys

from model.cli import main

sys.exit(main())
