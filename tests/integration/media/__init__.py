"""Integration tests of media/: real aiortc peers with synthetic devices."""
