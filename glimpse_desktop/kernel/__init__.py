"""The kernel: what every feature stands on, knowing no feature."""
