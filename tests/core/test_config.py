"""A local authority's TOML settings: good files change the lists; bad ones say which key."""

from __future__ import annotations

import pytest

from cstracker.core.config import load_config
from cstracker.core.errors import ConfigError

GOOD = """
authority_name = "Anytown Borough Council"
referral_id_prefix = "ATB"
follow_up_days = 28
small_count_threshold = 10

[lists]
referrer_team = ["Social Care North", "Social Care South", "YJS"]

[themes]
extra = ["Knife crime"]
rename = { "DV In home" = "Domestic abuse in home" }

[synonyms.themes]
knives = "Knife crime"
"""


def write(tmp_path, text):
    path = tmp_path / "borough.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file():
    cfg = load_config(None)
    assert cfg.settings.referral_id_prefix == "CS"
    assert cfg.settings.follow_up_days == 42
    assert len(cfg.lists.themes) == 22


def test_a_good_file(tmp_path):
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.settings.authority_name == "Anytown Borough Council"
    assert cfg.settings.referral_id_prefix == "ATB"
    assert cfg.settings.follow_up_days == 28
    assert cfg.lists.codes("referrer_team") == ("Social Care North", "Social Care South", "YJS")
    # an extra theme goes before the closing catch-all Other (issue 13), not after it
    assert cfg.lists.themes[-2:] == ("Knife crime", "Other")
    assert "Domestic abuse in home" in cfg.lists.themes and "DV In home" not in cfg.lists.themes
    assert cfg.lists.lookup("themes")["knives"] == "Knife crime"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("follow_up_days = 'six weeks'", "follow_up_days must be a whole number from 1 to 365"),
        ("follow_up_days = 0", "follow_up_days must be a whole number from 1 to 365"),
        ("colour = 'blue'", "unknown key 'colour'"),
        ("referral_id_prefix = 'c s'", "referral_id_prefix must be 1 to 10 capital letters"),
        ("[lists]\nprimary_concern = ['A']", "lists.primary_concern is fixed by the toolkit"),
        ("[lists]\nflavours = ['A']", "lists.flavours is not a code list"),
        ("[lists]\ngender = []", "lists.gender must be a non-empty list of texts"),
        ("[lists]\ngender = ['F', 'f']", "'f' is listed twice"),
        ("[lists]\ngender = ['=cmd']", "must be at most 60 characters and not start with"),
        ("[themes]\nrename = { Nope = 'X' }", "themes.rename: 'Nope' is not one of the themes"),
        ("[themes]\nadd = ['X']", "unknown key 'themes.add'"),
        ("[synonyms.themes]\nknives = 'Knife crime'", "'Knife crime' is not on the themes list"),
        ("authority_name = ", "not valid TOML"),
    ],
)
def test_bad_files_name_the_key(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml")


def test_the_readme_example_is_valid(tmp_path):
    import re
    from pathlib import Path

    readme = (Path(__file__).parent.parent.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(# ourborough\.toml.*?)```", readme, re.S)[1]
    cfg = load_config(write(tmp_path, block))
    assert cfg.settings.referral_id_prefix == "ATB"
    assert "Knife crime" in cfg.lists.themes and "Domestic abuse in home" in cfg.lists.themes


def test_every_problem_of_a_config_is_said_at_once_one_line_each(tmp_path):
    # issue 8 item 5 / issue 13: four mistakes, one run
    path = write(
        tmp_path,
        "follow_up_days = 0\n"
        'authority_name = "Any\\ttown"\n'
        "[lists]\ngender = ['F', '=HYPERLINK(1)']\n"
        "[themes]\nextra = [\"Knife\\u0007crime\"]\nrename = { 'DV In home' = '" + "x" * 500 + "' }\n",
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    lines = str(err.value).splitlines()
    assert len(lines) == 5, lines
    assert all(line.startswith(f"{path}: ") for line in lines)
    text = str(err.value)
    assert "follow_up_days must be a whole number" in text
    assert "authority_name: 'Any\\x09town' holds a control character" in text
    assert "lists.gender: '=HYPERLINK(1)' must be at most 60 characters and not start with = + - @" in text
    assert "themes.extra: 'Knife\\x07crime' holds a control character" in text
    assert "themes.rename.'DV In home': '" in text and "is 500 characters; at most 60" in text


@pytest.mark.parametrize(
    "text",
    [
        "[themes]\nrename = { 'DV In home' = '@SUM(1)' }",
        "[interventions]\nextra = ['+cmd']",
        "[synonyms.themes]\n'=x' = 'Other'",
        '[lists]\nreferrer_team = ["Team\\nNorth"]',
        '[lists]\nreferrer_team = ["Team\\u0085North"]',
        "authority_name = '" + "A" * 200 + "'",
    ],
)
def test_a_value_no_tracker_could_hold_is_refused(tmp_path, text):
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, text))


def test_init_with_a_bad_config_writes_no_tracker(tmp_path):
    from click.testing import CliRunner

    from cstracker.cli import cli

    cfg = write(
        tmp_path,
        "[themes]\nextra = [\"Knife\\u0000crime\"]\nrename = { 'DV In home' = '" + "y" * 5000 + "' }",
    )
    tracker = tmp_path / "T.xlsx"
    result = CliRunner().invoke(cli, ["init", str(tracker), "--config", str(cfg)])
    assert result.exit_code == 2
    assert not tracker.exists()
    assert len(result.output.strip().splitlines()) == 2
