"""Running the handlers: the worker, the hosts, routing, the retry policy and the dead-letter consumer."""
