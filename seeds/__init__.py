"""Seed data: the default watchlist and the generator of the sample campaign."""
