"""Places: offline reverse geocoding and inferred places."""
