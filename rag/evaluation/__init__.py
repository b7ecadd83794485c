"""Offline evaluation: a QA set in, retrieval and answer metrics per method and language out."""
