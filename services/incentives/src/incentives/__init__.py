"""Incentives: pay plans, commission, statements."""
