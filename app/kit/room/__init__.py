"""What calls and audio rooms share: a session in a room, its chat."""
