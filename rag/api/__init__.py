"""The web service: OpenAI-compatible chat, ask and search over one loaded index."""
