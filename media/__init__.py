"""Parley's media layer on aiortc: devices, tracks, playback, levels, peer links and the mesh.

No Qt, no socket.io: the app wires peer links to the signaling client. Modules are
imported where needed (``media.peer``, ``media.mesh``, ``media.tracks``, …); this package
imports nothing itself, so importing it stays cheap.
"""
