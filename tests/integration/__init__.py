"""renkei."""
