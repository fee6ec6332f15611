"""goval.host."""
