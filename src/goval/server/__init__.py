"""goval.server."""
