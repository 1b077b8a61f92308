"""One module per API resource; each holds the sync and the async class."""
