# SPDX-License-Identifier: MIT
"""Tests read shards through the package's own layout helper (python/agroflux/shards.py), so one
place knows the layout: `stacked(ds)` gives x, x_qc, y, y_valid, y_qc as (sample, time, feature)."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("AF_SOURCE_ROOT",
                                               os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")),
                                "python"))
from agroflux.shards import names, stacked  # noqa: E402,F401
