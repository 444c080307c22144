"""Unit tests of media/: levels, devices, mixing."""
