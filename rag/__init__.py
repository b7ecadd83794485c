"""Bilingual cited search and question answering over Chinese news articles."""
