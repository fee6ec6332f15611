"""goval.services."""
