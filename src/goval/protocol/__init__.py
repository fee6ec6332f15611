"""goval.protocol."""
