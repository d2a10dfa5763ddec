"""Captions from a vision service, sent nothing until turned on and agreed to."""
