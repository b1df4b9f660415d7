"""`python -m feedpub`: the same as the `feedpub` command."""

from feedpub.cli import entry

entry()
