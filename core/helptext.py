"""One `--help` style for every command line: descriptions keep their line breaks (usage examples), and each
option says its default. Most options had no default in their help (`--budget`, `--seconds`, `--seed`,
`--method` …), so a user had to read the code to know what a bare run does."""

from __future__ import annotations

import argparse
import copy
from enum import Enum
from pathlib import Path


class DefaultsHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """RawDescriptionHelpFormatter that ends an option's help with "(default: X)", unless the help already
    speaks of its default or there is none worth saying (None, off, empty). An option without help gets
    the default alone."""

    def _format_action(self, action: argparse.Action) -> str:
        if action.help is None and _says_default(action):
            action = copy.copy(action)
            action.help = "default: %(default)s"
        return super()._format_action(action)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if _says_default(action) and "default" not in text.lower():
            text += " (default: %(default)s)"
        return text


def _says_default(action: argparse.Action) -> bool:
    """Whether the default is worth printing: an optional argument with a value that is not "nothing"."""
    if not action.option_strings or isinstance(action, argparse._HelpAction | argparse._VersionAction):
        return False
    default = action.default
    if default is None or default is False or default == argparse.SUPPRESS:
        return False
    if isinstance(default, int | float | str | Path | Enum):
        return default != ""
    return isinstance(default, list) and bool(default) and all(isinstance(item, str) for item in default)
