# SPDX-License-Identifier: MIT
"""Compatibility name for the numpy reader: `from agroflux_reader import Output` still works;
new code should use `import agroflux; agroflux.Output(...)` (python/agroflux/reader.py)."""
from agroflux.reader import Output  # noqa: F401

__all__ = ["Output"]
