"""Market 4.0 POS: the stall application."""
