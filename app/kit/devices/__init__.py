"""Device settings: the user's choices of camera, microphone and speaker, and their preview."""
