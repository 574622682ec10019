"""The hub's part in each flow: one module of handlers per exchange, and what every handler uses."""
