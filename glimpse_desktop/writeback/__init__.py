"""Write-back: names, captions and tags to XMP sidecars (and JPEGs when asked)."""
