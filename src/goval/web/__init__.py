"""goval.web."""
