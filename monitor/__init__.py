"""hashtag-monitor: watches hashtag campaigns and tells how many people carry them."""

__version__ = "0.1.0"
