"""The delivery steps of `feedpub build` and `feedpub publish`: upload, then ping, then say so.

Readers fetch feeds from `site.feeds_url`. When `[publish] url` is set, that
is the bucket, so hubs are told of a feed only after its upload: `build` alone
sends no new ping then (the `publish` that uploads the feed does), though it
still sends again the pings an earlier run could not.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..model import Config
from ..store import LocalStore
from . import websub

if TYPE_CHECKING:
    from . import s3

EXIT_DELIVERY = 4
MAX_LISTED = 10  # failed pings named per hub; the rest are counted


def check(config: Config, *, publishing: bool, source: str) -> None:
    """Refuse, before anything is written, a publish that cannot start (exit 2)."""
    if publishing:
        from . import s3  # here: boto3's module, and the publish code, only when publishing

        s3.target(config.publish, source)
        s3.require_boto3()


def deliver(
    out: Path, config: Config, written: Collection[str], *, publishing: bool, ping: bool,
    wait: float, quiet: bool, verbose: bool, source: str = "feedpub.toml",
) -> int:  # fmt: skip
    """Publish `out` when asked, then ping the hubs; print what happened; the exit status."""
    status = 0
    changed: Collection[str] = () if config.publish.url else written
    if publishing:
        from . import s3

        try:
            with LocalStore(out).locked(wait):
                published = s3.publish(out, config, source=source)
        except s3.StoreError as error:
            click.echo(f"feedpub: error: {error}; the next publish uploads what is missing",
                       err=True)  # fmt: skip
            changed = ()
            status = EXIT_DELIVERY
        else:
            changed = published.uploaded
            status = max(status, _report_publish(published, quiet=quiet, verbose=verbose))
    notified = websub.notify(out, config, changed, send=ping, wait=wait)
    return max(status, _report_pings(notified, quiet=quiet, verbose=verbose))


def _report_publish(published: s3.Published, *, quiet: bool, verbose: bool) -> int:
    where = published.target
    for name in published.refused:
        click.echo(
            f"s3://{where.bucket}/{where.key(name)}: error: publish: an object feedpub did not "
            f"publish is where {name} goes; it is left alone and {name} is not uploaded "
            "(remove the object, or publish to another prefix)",
            err=True,
        )
    if verbose:
        for name in published.uploaded:
            click.echo(f"uploaded s3://{where.bucket}/{where.key(name)}", err=True)
        for name in published.deleted:
            click.echo(f"deleted s3://{where.bucket}/{where.key(name)}", err=True)
    if not quiet:
        click.echo(
            f"feedpub: published to {where.url} at {where.endpoint}: "
            f"{len(published.uploaded)} uploaded, {published.unchanged} unchanged, "
            f"{len(published.deleted)} deleted, {len(published.refused)} refused; "
            f"{published.requests} requests",
            err=True,
        )
    return EXIT_DELIVERY if published.refused else 0


def _report_pings(notified: websub.Notified, *, quiet: bool, verbose: bool) -> int:
    listed: dict[str, int] = {}
    for failure in notified.failed:
        listed[failure.ping.hub] = listed.get(failure.ping.hub, 0) + 1
        if listed[failure.ping.hub] <= MAX_LISTED or verbose:
            click.echo(f"feedpub: {failure}", err=True)
    for hub, count in listed.items():
        if count > MAX_LISTED and not verbose:
            click.echo(f"feedpub: {hub}: error: and {count - MAX_LISTED} more feeds not "
                       "notified (-v lists them)", err=True)  # fmt: skip
    if verbose:
        for ping in notified.sent:
            click.echo(f"pinged {ping.hub} for {ping.topic}", err=True)
    if not quiet and (notified.sent or notified.failed):
        hubs = len({ping.hub for ping in notified.sent} | set(listed))
        click.echo(
            f"feedpub: {len(notified.sent)} pings acknowledged by {hubs} hub(s), "
            f"{len(notified.failed)} failed and kept for the next run",
            err=True,
        )
    return EXIT_DELIVERY if notified.failed else 0
