"""goval.ot."""
