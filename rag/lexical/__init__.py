"""Lexical (BM25) retrieval over the search form."""
