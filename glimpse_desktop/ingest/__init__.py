"""Ingestion: scan, hash, decode once, metadata, thumbnails, the staged pipeline, the watcher."""
