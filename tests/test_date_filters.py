"""`after:` and `before:` at their edges, on real JPEGs whose EXIF says when they were taken.

What a person means: `after:2021` is from the first moment of 2021 on (2021 included), and
`before:2022` is up to the last moment of 2021; together they are the year 2021. A day, a month
or a year is the one on the camera's clock: a photo taken at half past midnight on New Year's
Day in Athens is a 2021 photo, whatever the time in Greenwich was.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from glimpse_desktop.api import Library
from tests import imagegen as ig

# name: (EXIF DateTimeOriginal, OffsetTimeOriginal)
SHOTS: dict[str, tuple[str, str | None]] = {
    "eve": ("2020:12:31 23:59:59", None),
    "new-year": ("2021:01:01 00:00:00", None),
    "athens-new-year": ("2021:01:01 00:30:00", "+02:00"),      # 2020-12-31 22:30 UTC
    "leap-day-end": ("2020:02:29 23:59:59", None),
    "march-first": ("2021:03:01 00:00:00", None),
    "feb-end": ("2021:02:28 23:59:59", None),
    "midsummer-day": ("2021:06:21 00:00:00", None),
    "midsummer-night": ("2021:06:21 23:59:59", None),
    "new-york-year-end": ("2021:12:31 23:30:00", "-05:00"),    # 2022-01-01 04:30 UTC
    "year-end": ("2021:12:31 23:59:59", None),
    "next-year": ("2022:01:01 00:00:00", None),
}


@pytest.fixture
def dated(lib: Library, photo_dir: Path) -> Library:
    for seed, (name, (taken, offset)) in enumerate(SHOTS.items()):
        ig.write_jpeg(photo_dir / f"{name}.jpg", (64, 48), seed=seed, datetime_original=taken,
                      offset_time_original=offset)
    lib.add_root(photo_dir)
    assert lib.index().new == len(SHOTS)
    return lib


def found(lib: Library, query: str) -> set[str]:
    result = lib.search(query, limit=100)
    return {Path(h.path).stem for h in result.hits}


def test_the_shots_were_read_with_their_own_clock(dated: Library) -> None:
    rows = dated.reader().rows("SELECT filename, taken_at, taken_at_source FROM photos")
    taken = {Path(str(r["filename"])).stem: str(r["taken_at"]) for r in rows}
    assert taken["athens-new-year"] == "2021-01-01T00:30:00+02:00"
    assert taken["new-year"] == "2021-01-01T00:00:00"
    assert {str(r["taken_at_source"]) for r in rows} == {"exif:DateTimeOriginal"}


def test_a_year_is_from_its_first_second_to_its_last(dated: Library) -> None:
    year_2021 = {"new-year", "athens-new-year", "march-first", "feb-end", "midsummer-day",
                 "midsummer-night", "new-york-year-end", "year-end"}
    assert found(dated, "after:2021 before:2022") == year_2021
    assert found(dated, "after:2021") == year_2021 | {"next-year"}
    assert found(dated, "before:2021") == {"eve", "leap-day-end"}
    assert found(dated, "before:2022") == year_2021 | {"eve", "leap-day-end"}
    assert found(dated, "after:2022") == {"next-year"}


def test_a_month_and_a_day_have_the_same_edges(dated: Library) -> None:
    assert found(dated, "after:2021-03 before:2021-04") == {"march-first"}
    assert found(dated, "after:2021-02 before:2021-03") == {"feb-end"}
    assert found(dated, "after:2020-02-29 before:2020-03-01") == {"leap-day-end"}
    assert found(dated, "after:2020-03 before:2020-12-31") == set()
    assert found(dated, "after:2021-06-21 before:2021-06-22") == {"midsummer-day",
                                                                   "midsummer-night"}
    assert found(dated, "after:2021-06-22 before:2021-12-31") == set()
    assert found(dated, "after:2021-12-31") == {"new-york-year-end", "year-end", "next-year"}
    assert found(dated, "before:2021-01-01") == {"eve", "leap-day-end"}
