"""Getting the written feeds to readers: hubs told of changes, a bucket, a local server."""
