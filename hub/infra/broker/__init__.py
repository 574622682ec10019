"""RabbitMQ: the pika transport, the topology, the broker's users, definitions and log-ins."""
