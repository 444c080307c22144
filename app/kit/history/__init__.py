"""The call history: a SQLite store and the recorder that follows the bus."""
