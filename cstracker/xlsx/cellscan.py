"""Every cell of a piece of sheet XML located at once, with numpy: no Python call per cell.

A 100,000-row Referrals sheet holds about 3.4 million cells in 300 MB of XML; a
regular expression tried at each cell costs a second or more per question asked
(is it far outside the area? is it stored as another type? does it hold a
formula? has it its position?). Here the bytes of a piece are compared as one
numpy array instead: where each cell and row starts, its column and row, the
value of its ``t`` attribute, whether it is empty and whether a formula follows.

Only for the shape every spreadsheet program writes: each cell ``<c r="A1" ...``
and each row ``<row r="1" ...`` (its position first, one space before it, no
namespace prefix). ``locate`` gives None for a piece in any other shape, and the
caller reads that piece with its exact regular expressions. What is located is a
superset where it is a guess (a cell with a formula somewhere, several ``t``
attributes): the callers confirm those few cells with the exact expressions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

#: the value of a cell's t attribute (TYPE_SEVERAL: more than one t=", or one the codes do not cover)
TYPE_NONE, TYPE_S, TYPE_INLINE, TYPE_N, TYPE_STR, TYPE_OTHER, TYPE_SEVERAL = range(7)

_PREFIXED = re.compile(rb"<[\w.-]+:(?:c|row)\b")
_COLON_NAME = re.compile(rb":(?:c|row)\b")
_LT, _GT, _EQ, _QUOTE, _SLASH, _COLON = 60, 62, 61, 34, 47, 58
_PAD = 32
_WORD = np.zeros(256, bool)
for _ch in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_":
    _WORD[_ch] = True
_SPACE = np.zeros(256, bool)
_SPACE[[9, 10, 13, 32]] = True
#: what may follow an element's name: space, '>' or '/'
_NAME_END = _SPACE.copy()
_NAME_END[[_GT, _SLASH]] = True


@dataclass
class Located:
    """The cells and rows of one piece (offsets into it), in document order."""

    #: offset of each cell's "<c"
    start: np.ndarray
    #: 1-based column from its reference (letters beyond three: 0)
    col: np.ndarray
    #: how many letters and digits its reference has (digits counted up to nine)
    letters: np.ndarray
    digits: np.ndarray
    #: its reference is whole: one to three letters, digits, the closing quote
    whole_ref: np.ndarray
    #: offset of the '>' that ends its start tag
    tag_end: np.ndarray
    #: written as <c .../> (no value)
    empty: np.ndarray
    #: its t attribute (TYPE_*)
    type: np.ndarray
    #: a formula ("<f") starts after it and before the next cell
    formula: np.ndarray
    #: each row's "<row" offset, its number (digits counted up to nine) and how many digits it has
    row_start: np.ndarray
    row_number: np.ndarray
    row_digits: np.ndarray
    #: the piece's bytes as an array (and some padding)
    data: np.ndarray

    def row_of(self, cells: np.ndarray) -> np.ndarray:
        """The row numbers of these cells (indexes), from their references."""
        return _number(self.data, self.start[cells] + 6 + self.letters[cells], 9)[0]


def locate(region: bytes) -> Located | None:
    """The cells and rows of ``region``; None when it is not in the plain shape (see the module)."""
    b = np.frombuffer(region + b"\0" * _PAD, np.uint8)
    body = b[: len(region)]
    lt = np.flatnonzero(body == _LT)
    after = b[lt + 1]
    maybe = lt[after == ord("c")]
    cells = maybe[_NAME_END.take(b[maybe + 2])]
    maybe = lt[after == ord("r")]
    rows = maybe[(b[maybe + 2] == ord("o")) & (b[maybe + 3] == ord("w")) & _NAME_END.take(b[maybe + 4])]
    if not (_plain(b, cells, 1) and _plain(b, rows, 3)) or _prefixed(region):
        return None
    # a start tag ends just before the next '<' (no attribute value holds one): there, or the
    # piece is in another shape (space between tags, cut off)
    following = np.searchsorted(lt, cells) + 1
    if following.size and following[-1] >= len(lt):
        return None
    tag_end = lt[following] - 1
    if not (b[tag_end] == _GT).all():
        return None
    empty = b[tag_end - 1] == _SLASH
    # the reference: letters, then digits (a count of nine means nine or more)
    ch = _eight(b, cells + 6)
    letters, col = np.zeros(len(cells), np.int64), np.zeros(len(cells), np.int64)
    going = np.ones(len(cells), bool)
    for k in range(4):
        going &= (ch[:, k] >= 65) & (ch[:, k] <= 90)
        letters += going
        if k < 3:
            col = np.where(going, col * 26 + ch[:, k] - 64, col)
    col[letters > 3] = 0
    at = cells + 6 + letters
    digits = _leading_digits(_eight(b, at))
    digits += (digits == 8) & ((b[at + 8] - 48) < 10)  # nine: nine or more
    whole_ref = (letters >= 1) & (letters <= 3) & (digits >= 1) & (b[cells + 6 + letters + digits] == _QUOTE)
    kind = _types(b, body, cells, tag_end)
    # "<f" after a cell's start and before the next cell's: that cell may hold a formula
    maybe = lt[after == ord("f")]
    f_at = maybe[_NAME_END.take(b[maybe + 2])]
    formula = np.zeros(len(cells), bool)
    if f_at.size and cells.size:
        owner = np.searchsorted(cells, f_at, side="right") - 1
        formula[owner[owner >= 0]] = True
    row_number, row_digits = _number(b, rows + 8, 9)
    return Located(
        cells, col, letters, digits, whole_ref, tag_end, empty, kind, formula, rows, row_number, row_digits, b
    )


def value_window(located: Located, cells: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """For these cells (indexes): the first ``width`` bytes of the value when ``<v>`` follows the start
    tag at once (a row each), and whether it does."""
    b = located.data
    body = located.tag_end[cells] + 1
    has_v = _bytes_at(b, body, b"<v>")
    starts = np.minimum(body + 3, len(b) - 8 - width)
    window = np.concatenate([_eight(b, starts + k) for k in range(0, width, 8)], axis=1)
    return window, has_v


def _prefixed(region: bytes) -> bool:
    """Whether a cell or row may carry a namespace prefix ("<x:c ", "<x:row "): then the exact
    patterns read the piece."""
    return _COLON_NAME.search(region) is not None and _PREFIXED.search(region) is not None


def _plain(b: np.ndarray, starts: np.ndarray, name: int) -> bool:
    """Whether each element at ``starts`` (name ``name`` bytes long after '<') has ' r="' first."""
    at = starts + 1 + name
    return bool(((b[at] == 32) & (b[at + 1] == ord("r")) & (b[at + 2] == _EQ) & (b[at + 3] == _QUOTE)).all())


def _number(b: np.ndarray, at: np.ndarray, most: int) -> tuple[np.ndarray, np.ndarray]:
    """The decimal number starting at each offset (0 for none) and its digit count, up to ``most`` digits."""
    value = np.zeros(len(at), np.int64)
    count = np.zeros(len(at), np.int64)
    going = np.ones(len(at), bool)
    for k in range(most):
        ch = b[at + k].astype(np.int64) - 48
        going &= (ch >= 0) & (ch < 10)
        value = np.where(going, value * 10 + ch, value)
        count += going
    return value, count


def _types(b: np.ndarray, body: np.ndarray, cells: np.ndarray, tag_end: np.ndarray) -> np.ndarray:
    """Each cell's t attribute: the '=' of a t=" inside its start tag after a character that is
    not a word character (what the regular expression ``\\bt="`` finds)."""
    kind = np.full(len(cells), TYPE_NONE, np.int8)
    eq = np.flatnonzero(body == _EQ)
    eq = eq[eq >= 2]
    eq = eq[b[eq - 1] == ord("t")]
    eq = eq[(b[eq + 1] == _QUOTE) & ~_WORD.take(b[eq - 2])]
    if not eq.size or not cells.size:
        return kind
    owner = np.searchsorted(cells, eq, side="right") - 1
    inside = owner >= 0
    inside[inside] &= eq[inside] < tag_end[owner[inside]]
    eq, owner = eq[inside], owner[inside]
    v = eq + 2
    first, second = b[v], b[v + 1]
    code = np.full(len(eq), TYPE_SEVERAL, np.int8)  # a value the codes below do not cover: read exactly
    one = second == _QUOTE
    code[one & (first == ord("s"))] = TYPE_S
    code[one & (first == ord("n"))] = TYPE_N
    code[one & ((first == ord("b")) | (first == ord("e")) | (first == ord("d")))] = (
        TYPE_OTHER  # bool, error, date
    )
    longer = np.flatnonzero(~one)
    if longer.size:
        code[longer[_bytes_at(b, v[longer], b'str"')]] = TYPE_STR
        code[longer[_bytes_at(b, v[longer], b'inlineStr"')]] = TYPE_INLINE
    kind[owner] = code
    several = np.bincount(owner, minlength=len(cells)) > 1
    kind[several] = TYPE_SEVERAL
    return kind


def _leading_digits(ch: np.ndarray) -> np.ndarray:
    """How many of each row's bytes are digits before the first that is not."""
    count = np.zeros(len(ch), np.int64)
    going = np.ones(len(ch), bool)
    for k in range(ch.shape[1]):
        going &= (ch[:, k] - 48) < 10  # wraps: a digit is below 10
        count += going
    return count


def _eight(b: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The eight bytes from each offset, one row each (one gather of unaligned words)."""
    words = np.ndarray(shape=(len(b) - 8,), dtype="<u8", buffer=b, strides=(1,))
    return words[at].view(np.uint8).reshape(-1, 8)


def _bytes_at(b: np.ndarray, at: np.ndarray, text: bytes) -> np.ndarray:
    """Whether ``text`` is at each offset: eight bytes compared at once (the padded bytes read as
    unaligned little-endian words, one starting at every offset)."""
    words = np.ndarray(shape=(len(b) - 8,), dtype="<u8", buffer=b, strides=(1,))
    same = np.ones(len(at), bool)
    for i in range(0, len(text), 8):
        part = text[i : i + 8]
        mask = (1 << (8 * len(part))) - 1
        same &= (words[at + i] & np.uint64(mask)) == np.uint64(int.from_bytes(part, "little"))
    return same
