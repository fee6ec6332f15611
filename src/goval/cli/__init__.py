"""goval.cli."""
