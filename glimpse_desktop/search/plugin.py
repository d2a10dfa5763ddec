"""The search feature's contributions, through the hooks of kernel/hookspecs.py."""

from __future__ import annotations
