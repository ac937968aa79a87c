"""The Table part's calculated-column formulas, rewritten when the formulas change.

A tracker made before the ``tracker_start`` setting gets it at its next save
(``settings_store`` adds the setting and its defined name ``cs_tracker_start``;
``Tracker.save`` rewrites every row's Status and Follow-up due cells) and the new
formulas in the Table's column definitions, so rows typed in Excel later get
them too. The Table part is one the tool owns (DESIGN.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping


def _esc(text: str) -> bytes:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8")


def patch_table_formulas(xml: bytes, formulas: Mapping[str, str]) -> bytes:
    def one(m: re.Match[bytes]) -> bytes:
        element = m[0]
        name = re.search(rb'\bname="([^"]*)"', element)
        label = _unescape(name[1].decode("utf-8")) if name else ""
        if label not in formulas:
            return element
        prefix = m[1] or b""
        new = b"<%scalculatedColumnFormula>%s</%scalculatedColumnFormula>" % (
            prefix,
            _esc(formulas[label]),
            prefix,
        )
        if re.search(rb"<(?:[\w.-]+:)?calculatedColumnFormula\b", element):
            return re.sub(
                rb"<(?:[\w.-]+:)?calculatedColumnFormula\b[^>]*>.*?</(?:[\w.-]+:)?calculatedColumnFormula>",
                lambda _: new,
                element,
                count=1,
                flags=re.S,
            )
        if element.endswith(b"/>"):
            return element[:-2] + b">" + new + b"</%stableColumn>" % prefix
        close = element.rfind(b"</")
        return element[:close] + new + element[close:]

    return re.sub(
        rb"<([\w.-]+:)?tableColumn\b[^>]*?(?:/>|>.*?</(?:[\w.-]+:)?tableColumn>)", one, xml, flags=re.S
    )


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )
