"""What happened, as data: a code with its values, which each front end phrases.

The layers below the front ends (core, library, ingest, ml, organize) never name a `glimpse`
command, a CLI flag or a window's button: a person reads their messages in a terminal or in
the window, and what helps differs. They raise a ``CodedError`` or return a ``Notice`` with a
``code`` (stable, dotted: ``"library.missing"``), the ``values`` the sentence is made of, and a
plain sentence of what happened (``text``, true in either front end). The CLI adds the commands
that help, the window its buttons and menus, each keyed by the code.

A leaf module (no imports from the package): every layer may use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Self

__all__ = ["CodedError", "Notice", "joined", "notice_of"]


def _frozen(values: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True)
class Notice:
    """Something a front end should tell the person: ``text`` says what happened in words that
    hold in a terminal and in a window; ``code`` and ``values`` let each add its own advice."""

    code: str
    text: str
    values: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _frozen(self.values))

    def __str__(self) -> str:
        return self.text


class CodedError(Exception):
    """An error that carries a ``Notice``: ``str(exc)`` is what happened, ``exc.code`` and
    ``exc.values`` say it as data. Without a code it is a plain message (``code == ""``)."""

    def __init__(self, text: str = "", *, code: str = "",
                 values: Mapping[str, Any] | None = None) -> None:
        super().__init__(text)
        self.code = code
        self.values = _frozen(values)

    @classmethod
    def of(cls, notice: Notice) -> Self:
        """The error that says ``notice``."""
        return cls(notice.text, code=notice.code, values=notice.values)

    @property
    def notice(self) -> Notice:
        return Notice(self.code, str(self), self.values)


def notice_of(exc: BaseException) -> Notice:
    """Any exception as a Notice: its own words, with the code of the first error in its
    ``__cause__`` chain that has one (a front end's "cannot search for that: …" raised from
    a coded error keeps that error's code). A plain one has no code: its text is all there is.
    """
    cause: BaseException | None = exc
    for _ in range(10):
        if cause is None:
            break
        if isinstance(cause, CodedError) and cause.code:
            return Notice(cause.code, str(exc), cause.values)
        cause = cause.__cause__
    return Notice("", str(exc))


def joined(text: str, advice: str, sep: str) -> str:
    """What happened, then what to do about it: after ``sep`` when ``text`` is a clause, as a
    sentence of its own when ``text`` already ends one (or runs over several lines)."""
    if not advice:
        return text
    text = text.rstrip()
    lines = "\n" in text
    if not lines and not text.endswith((".", "!", "?")):
        return f"{text}{sep}{advice}"
    sentence = advice[:1].upper() + advice[1:]
    if not sentence.endswith((".", "!", "?", ")")):
        sentence += "."
    return text + ("\n" if lines else " ") + sentence
