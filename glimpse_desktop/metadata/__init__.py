"""Metadata: dates, places, cameras and text read from files (EXIF, XMP, RAW)."""
