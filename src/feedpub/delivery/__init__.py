"""Delivering the feeds a build wrote: serving, WebSub pings, object storage."""
