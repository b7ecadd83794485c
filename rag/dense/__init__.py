"""Dense (embedding) retrieval."""
