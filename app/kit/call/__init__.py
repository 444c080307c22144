"""The call kit: the call-invitation service, its phases, the call session and controller."""
