"""Search: CLIP embeddings, vectors, queries and filters, tags, duplicates."""
