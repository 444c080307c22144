"""What pages show: immutable view values the kit builds and widgets render."""
