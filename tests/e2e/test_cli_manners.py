"""The command line's own manners: --version, a help text for everything, and refusals instead of guesses."""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from shared.local.cli import _parser, main

PROMOTE = str(Path(sys.executable).with_name("promote"))


def test_version_prints_the_installed_version():
    done = subprocess.run([PROMOTE, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"promote {version('promote')}"


def _parsers(parser: argparse.ArgumentParser, path: str = "promote"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{path} {name}")


def test_every_argument_of_every_command_has_a_help_text():
    missing, seen = [], 0
    for path, parser in _parsers(_parser()):
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            seen += 1
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    assert seen > 30 and not missing, f"arguments without a help text: {missing}"


@pytest.mark.parametrize("wait", ["-1", "-0.5", "nan", "inf", "soon"])
def test_run_refuses_a_wait_that_is_not_a_number_of_seconds(wait, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--until-idle", "--wait", wait])
    assert exit_.value.code == 2
    assert f"--wait: must be a number of seconds >= 0, got '{wait}'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, refused, own",
    [
        (["asset-replicated", "--asset", "a", "--flight", "2"], "--flight", "--asset"),
        (["tests-passed", "--asset", "a"], "--asset", "--suite, --run"),
        (["flight-healthy", "--flight", "1", "--suite", "s", "--severity", "Sev1"], "--severity, --suite", "--flight"),
        (["alert", "--run", "7"], "--run", "--severity, --description"),
    ],
)
def test_send_refuses_options_that_do_not_belong_to_the_event_type(args, refused, own, capsys):
    # refused before anything is read or published: no storage is needed to say so
    assert main(["send", *args, "--release", "wave-1", "--workload", "payroll"]) == 2
    assert f"{args[0]} takes no {refused} (its own options: {own})" in capsys.readouterr().err
