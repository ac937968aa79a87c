"""The command line as a coordinator meets it: help, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from cstracker.cli import COMMANDS, cli


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_every_command_has_help_with_an_example():
    listed = cli.list_commands(None)
    assert "init" in listed and "validate" in listed
    for name in listed:
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert "Example:" in result.output, f"{name} --help shows no example"


def test_all_planned_commands_exist():
    assert set(cli.list_commands(None)) == set(COMMANDS)


def test_help_is_fast_no_heavy_imports():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from cstracker.cli import cli\n"
        "for name in [None, *cli.list_commands(None)]:\n"
        "    args = [name, '--help'] if name else ['--help']\n"
        "    assert CliRunner().invoke(cli, args).exit_code == 0\n"
        "heavy = [m for m in ('pandas', 'openpyxl', 'xlsxwriter', 'fastexcel', 'python_calamine') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "cstracker", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "cstracker" in out.stdout


def test_init_then_refuses_to_overwrite(tmp_path):
    path = tmp_path / "Referral Tracker.xlsx"
    first = run("init", str(path))
    assert first.exit_code == 0, first.output
    assert "Created" in first.output and path.exists()
    again = run("init", str(path))
    assert again.exit_code == 1
    assert str(path.name) in again.output and "--overwrite" in again.output


def test_bad_config_is_one_line_exit_2(tmp_path):
    cfg = tmp_path / "b.toml"
    cfg.write_text("follow_up_days = 'soon'\n")
    result = run("init", str(tmp_path / "t.xlsx"), "--config", str(cfg))
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: {cfg}: follow_up_days must be a whole number from 1 to 365"
    ]


@pytest.mark.parametrize("args", [["init"], ["validate"], ["nonsense"]])
def test_wrong_usage_is_exit_2(args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
