"""Keys: keyrings and their files, which service holds which key, key series and rotation."""
