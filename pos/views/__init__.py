"""Blueprints of the stall app, one module per area."""
