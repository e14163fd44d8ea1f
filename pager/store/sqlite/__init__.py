"""The embedded SQLite store (one node)."""
