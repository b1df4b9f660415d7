"""Delivering the feeds a build wrote: a local server, WebSub hubs, object storage."""
