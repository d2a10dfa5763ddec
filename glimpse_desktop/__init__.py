"""Glimpse Desktop: a local-first photo manager."""

__version__ = "0.1.0"
APP_NAME = "glimpse-desktop"
