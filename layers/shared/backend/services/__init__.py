"""Domain rules. Services call repositories and queues; they know nothing about HTTP."""
