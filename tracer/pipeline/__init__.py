"""The data path shared by every subsystem: source -> writer -> trace file."""
