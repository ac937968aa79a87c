"""A local authority's TOML settings: good files change the lists; bad ones say which key."""

from __future__ import annotations

import pytest

from cstracker.config import load_config
from cstracker.errors import ConfigError

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
    assert cfg.lists.themes[-1] == "Knife crime"
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

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(# ourborough\.toml.*?)```", readme, re.S)[1]
    cfg = load_config(write(tmp_path, block))
    assert cfg.settings.referral_id_prefix == "ATB"
    assert "Knife crime" in cfg.lists.themes and "Domestic abuse in home" in cfg.lists.themes
