"""`glimpse places`, and places in `index`, `info`, `status` and `search`, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glimpse_desktop import cli
from glimpse_desktop.api import Library
from tests import imagegen as ig


def run(capsys: pytest.CaptureFixture[str], library: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--library", str(library), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_places_verb(capsys: pytest.CaptureFixture[str], library_path: Path,
                     photo_dir: Path) -> None:
    def shot(name: str, when: str, gps: tuple[float, float] | None, seed: int) -> None:
        ig.write_jpeg(photo_dir / name, (96, 64), seed=seed, datetime_original=when, gps=gps,
                      make="FUJIFILM", model="X100V")

    shot("a.jpg", "2024:05:01 12:00:00", (38.7108, -9.1368), 1)      # Lisbon
    shot("b.jpg", "2024:05:01 12:10:00", None, 2)                    # inherits Lisbon
    shot("c.jpg", "2024:05:02 16:00:00", (38.7976, -9.3907), 3)      # Sintra
    shot("d.jpg", "2024:06:01 10:00:00", (35.0116, 135.7681), 4)     # Kyoto
    with Library.open(library_path) as lib:
        lib.set_faces(False)
    assert run(capsys, library_path, "add", str(photo_dir))[0] == 0
    code, out, _ = run(capsys, library_path, "index", "--quiet")
    assert code == 0 and "Places: 4 photos placed" in out

    code, out, _ = run(capsys, library_path, "places", "--json")
    assert code == 0
    tree = json.loads(out)
    assert [(c["name"], c["photos"], c["inferred"]) for c in tree] == [
        ("Portugal", 3, 1), ("Japan", 1, 0)]
    lisbon = tree[0]["regions"][0]
    assert lisbon["name"] == "Lisbon"
    assert [(c["name"], c["photos"]) for c in lisbon["cities"]] == [("Lisbon", 2), ("Sintra", 1)]
    assert isinstance(tree[1]["cover"], int)

    code, out, err = run(capsys, library_path, "places")
    assert code == 0
    lines = out.splitlines()
    assert lines[:4] == ["Portugal  3 (1 inferred)", "  Lisbon  3 (1 inferred)",
                         "    Lisbon  2 (1 inferred)", "    Sintra  1"]
    assert "4 photos in 3 places of 2 countries" in err

    code, out, _ = run(capsys, library_path, "info", str(photo_dir / "b.jpg"))
    assert code == 0
    a_id = json.loads(run(capsys, library_path, "info", str(photo_dir / "a.jpg"), "--json")[1])[
        "id"]
    assert f"place           Lisbon, Portugal (inferred from photo {a_id}" in out

    code, out, _ = run(capsys, library_path, "search", "place:portugal", "--json")
    assert code == 0
    assert {Path(h["path"]).name for h in json.loads(out)["results"]} == {"a.jpg", "b.jpg",
                                                                          "c.jpg"}
    code, out, _ = run(capsys, library_path, "search", 'place:"Kyoto"', "--json")
    assert {Path(h["path"]).name for h in json.loads(out)["results"]} == {"d.jpg"}
    code, out, err = run(capsys, library_path, "search", "place:Nowhere")
    assert code == 0 and "no photo was taken in a place called 'Nowhere'" in err

    status = json.loads(run(capsys, library_path, "status", "--json")[1])
    assert status["places"]["placed"] == 3 and status["places"]["inferred"] == 1
    assert "Places: 3 photos placed by GPS, 1 inferred" in run(capsys, library_path,
                                                              "status")[1]
