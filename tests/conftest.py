"""Test-suite settings: every notebook runs in smoke mode, figures render off-screen.

nbval starts each notebook's kernel as a child of this process, so the environment variables set
here reach the notebooks too.
"""

import os

os.environ.setdefault("HELPERS_SMOKE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
