"""Cryptography on `cryptography`: sealing, envelope encryption, blind index, tokens, signatures, ciphers."""
