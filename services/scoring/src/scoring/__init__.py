"""Scoring: scorecards, provisional and final scores, grades."""
