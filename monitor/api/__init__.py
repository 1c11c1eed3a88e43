"""The HTTP API: watchlists, reports, sources, health and metrics, for people and tools."""
