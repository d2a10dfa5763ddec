"""Actions on selected photos that plugins add to the window's photo menu (no Qt here).

A plugin returns ``PhotoAction`` records from its ``glimpse_photo_actions`` hook; the window
lists them under its own items in the photo menu (the grid's and the viewer's) and runs the
chosen one on the selected photos as a background job, with progress and Cancel in the status
bar, then shows the text the action returned::

    @hookimpl
    def glimpse_photo_actions():
        return [PhotoAction(id="colors.tag", label="Tag dominant colours", run=tag_colours)]

    def tag_colours(library, photo_ids, progress, cancel):
        for done, photo_id in enumerate(photo_ids, 1):
            cancel.raise_if_cancelled()
            ...
            progress(Progress("Tag dominant colours", "tag", done, len(photo_ids)))
        return f"{len(photo_ids)} photos tagged"
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from glimpse_desktop.kernel.progress import CancelToken, ProgressCallback

# run(library, photo_ids, progress, cancel) -> the result in words, shown when it ends.
PhotoActionRun = Callable[[Any, Sequence[int], ProgressCallback, CancelToken], str]


@dataclass(frozen=True)
class PhotoAction:
    """One action on selected photos.

    ``id``: a stable dotted name, the plugin's own prefix first (``writeback.write_now``);
    ``label``: what the menu says; ``run(library, photo_ids, progress, cancel)``: does the
    work off the GUI thread (``photo_ids`` in the order they are shown; ``progress`` takes
    ``kernel.progress.Progress`` events; a cancel is seen through ``cancel``, which it checks
    between photos) and returns the result in words for the status bar; ``enabled(library)``:
    whether the action can run now (``None``: always), asked when the menu opens, so it
    must be quick."""

    id: str
    label: str
    run: PhotoActionRun
    enabled: Callable[[Any], bool] | None = None

    def __post_init__(self) -> None:
        if not self.id or not self.label:
            raise ValueError("a photo action needs an id and a label")
        if not callable(self.run):
            raise TypeError(f"photo action {self.id!r}: run must be callable")

    def available(self, library: Any) -> bool:
        """Whether the menu offers the action now (an ``enabled`` that fails says no)."""
        if self.enabled is None:
            return True
        try:
            return bool(self.enabled(library))
        except Exception:
            return False
