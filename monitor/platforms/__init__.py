"""Each platform's wire format mapped to the project's own: posts, rate limits."""
