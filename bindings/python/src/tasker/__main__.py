"""``python -m tasker worker module:factory`` (see tasker._cli)."""
import sys

from ._cli import main

sys.exit(main())
