"""The provincial sync server: stores each stall's journal, projects it, serves the catalogue."""
