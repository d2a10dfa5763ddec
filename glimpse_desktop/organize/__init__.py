"""What Glimpse works out from a library: tags, duplicates, sorting (later faces and albums)."""
