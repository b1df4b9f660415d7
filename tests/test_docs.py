"""The README documents every command, option and configuration key."""

from __future__ import annotations

import re

import pytest
from conftest import PROJECT

from feedpub.cli import main

README = (PROJECT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_is_in_the_readme_with_its_options(name: str) -> None:
    """Each command appears in the README, and each of its long options too."""
    assert f"feedpub {name}" in README
    command = main.commands[name]
    assert command.help
    for parameter in command.params:
        for option in getattr(parameter, "opts", []):
            if option.startswith("--") and option != "--help":
                assert option in README, f"{name} {option} is not in the README"
        assert getattr(parameter, "help", None), f"{name} {parameter.name} has no help text"


def test_every_configuration_key_is_in_the_readme() -> None:
    """Each key the configuration accepts is documented."""
    from feedpub import config

    for key in (*config._SITE_KEYS, *config._AUTHOR_KEYS, *config._FEEDS_KEYS, *config._BUILD_KEYS):
        assert re.search(rf"\b{key}\b", README), key


def test_quick_start_is_two_commands() -> None:
    """The quick start shows one command that builds the feeds and one that runs the tests."""
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^\$ (.+)$", quick, re.M)
    assert len(commands) == 2
    assert "feedpub build" in commands[0]
    assert "pytest" in commands[1]
    assert commands[1] in (PROJECT / ".ci" / "run").read_text()


def test_every_key_of_the_later_tables_is_in_the_readme() -> None:
    """Each key of [archives], [markdown], [websub], [serve] and [publish] is documented."""
    from feedpub import config

    for table, keys in (
        ("archives", config._ARCHIVES_KEYS), ("markdown", config._MARKDOWN_KEYS),
        ("websub", config._WEBSUB_KEYS), ("serve", config._SERVE_KEYS),
        ("publish", config._PUBLISH_KEYS),
    ):  # fmt: skip
        for key in keys:
            assert f"`{table}.{key}`" in README, f"{table}.{key}"


def test_every_exit_code_is_in_the_readme() -> None:
    """Each exit code the command line uses has a row in the README's table."""
    from feedpub import cli

    codes = {value for name, value in vars(cli).items() if name.startswith("EXIT_")}
    assert codes >= {0, 1, 2, 3, 5, 130}
    for code in codes:
        assert f"| `{code}` |" in README, code
