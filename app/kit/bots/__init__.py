"""Headless kit clients (bots) for tests and demos: calls and audio rooms."""
