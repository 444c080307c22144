"""The kit, Qt-free: bus, events, config, types, the call and audio room kits, their
sessions, history, device settings and bots. Nothing here imports Qt or widgets.
"""
