"""The live audio room kit: the room session, its seats, roster, chat and audio, and the kit."""
