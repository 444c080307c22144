"""The composition: the kits wired to the pages.

With ``app/main.py`` (the composition root) these are the only modules of ``app`` that
import ``widgets``: something has to build the pages and connect their intents to the
presenters, and it must sit above both layers. Everything else in ``app`` is page-blind.
"""
