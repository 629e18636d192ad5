"""``python -m datadiet.cli`` (and ``torchrun -m datadiet.cli``): the ``datadiet`` command."""

import sys

from datadiet.cli.main import main

sys.exit(main())
