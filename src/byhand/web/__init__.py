"""The interactive lecture: a FastAPI app, its JSON API and its page."""
