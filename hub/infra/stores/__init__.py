"""The ports' SQL stores beside the vault and the access record, on the unit of work's connection."""
