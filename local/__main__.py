"""`python -m local`: see local/cli.py and docs/local-cloud.md."""

import os
import sys

from local.cli import main

code = main()
sys.stdout.flush()
sys.stderr.flush()
# Everything is stopped by now (instances, threads, the emulator); skip the interpreter's teardown,
# which spends seconds garbage-collecting the emulator's in-memory data.
os._exit(code)
