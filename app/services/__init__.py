"""Qt-free services of the kit: invitations, calls, local media."""
