"""Faces and people: detection and recognition, storage, clustering, the service."""
