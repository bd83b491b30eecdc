"""Data files of the shared core (the MTT invoice XSD)."""
