"""Qt adapters of the kit: presenters with typed signals, navigation and the bus's default
actions. Never imports widgets: the composition root (app/main/) connects pages.
"""
