"""Mining GitHub: the crawler, the local stand-in of the REST API, and the savers."""
