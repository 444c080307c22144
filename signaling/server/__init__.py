"""parley-server: the self-hostable signaling server (python-socketio on aiohttp)."""
