"""The Vietnamese catalogue of the shared core's own strings (sync/*.py); both apps load it."""
