"""The Docker engine: the connection, our labels, one-shot helpers, preflight, ownership, the engine lock."""
