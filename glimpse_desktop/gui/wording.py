"""The window's words for what core reports as codes (glimpse_desktop.kernel.messages): core says
what happened; the window adds what to do here, with its own buttons and menus, never a
terminal command.

Every core error or notice the window shows goes through ``say`` (``tasks.describe`` does it
for errors), so a code gets the same advice on every page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from glimpse_desktop.kernel.messages import Notice, joined, notice_of

# Where things are in the window, as the person sees them.
SEARCH_MODEL = "Settings › Search Model"
FACES = "Settings › Faces"
CAPTIONS = "Settings › Captions"
ADD_FILE = "“Add from File…”"
ADD_FOLDER = "“Add from Folder…”"
SET_KEY = "“Set Key…”"
CAPTIONS_ON = "“Write captions with a vision model”"


def quoted(text: str) -> str:
    """What a person typed, set off in a header: “in quotes”, unless it holds quotes of its
    own (``person:"Anna Smith"``, ``"red car"``): then as typed, never quotes inside quotes."""
    if any(mark in text for mark in '"“”'):
        return text
    return f"“{text}”"


def by_hand(v: Mapping[str, Any]) -> str:
    """How to install a search model from files fetched on another computer (values of
    ``registry.by_hand``): the export's towers (no torch needed) or the weights."""
    files = [f for f in v.get("files") or () if f.get("url")]
    if v.get("exported") and files:
        fetched = " and ".join(f"{f['url']} saved as {f['file']}" for f in files)
        return (f"download {fetched} into one folder on another computer (the vocabulary "
                f"comes with Glimpse), bring the folder or a .zip of it here and choose it "
                f"with {ADD_FILE} in {SEARCH_MODEL}; nothing needs torch")
    where = f" from {v['url']}" if v.get("url") else ""
    return (f"download {v.get('file') or 'its weights'}{where} on another computer and choose "
            f"it with {ADD_FILE} in {SEARCH_MODEL} (converting the weights to ONNX needs "
            "torch and open_clip: Glimpse says how to install them if they are missing)")


def _get_model(v: Mapping[str, Any]) -> str:
    return f"download it in {SEARCH_MODEL}; without internet here, {by_hand(v)}"


_HINTS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "library.empty": lambda v: ("choose another library, or delete the empty file to start a "
                                "new library there"),
    "library.foreign": lambda v: "it belongs to another program: choose another library",
    "library.not_sqlite": lambda v: "choose another library",
    "library.is_folder": lambda v: "choose a library file, not a folder",
    "roots.none": lambda v: "add your photo folder with “Add Folder…”",
    "roots.outside": lambda v: "add the folder with “Add Folder…” first",
    "roots.unknown": lambda v: "Settings › Folders lists the library's folders",
    # Models and face packs.
    "models.not_installed": _get_model,
    "model_not_installed": _get_model,
    "models.no_address": by_hand,
    "models.download_failed": lambda v: f"without internet here, {by_hand(v)}",
    "models.damaged": lambda v: f"remove it in {SEARCH_MODEL} and download it again",
    # The same words as the terminal's (cli/common.py): the commands are pip's, run in one.
    "models.needs_torch": lambda v: (
        f"install them with:  {v['install']}"
        + (f"  (on Linux without an NVIDIA GPU, first:  {v['pip']} --index-url "
           f"{v['cpu_index']} torch torchvision  which leaves out 3 GB of CUDA libraries)"
           if v.get("cpu_index") else "") + "; then try again"),
    "faces.pack_not_installed": lambda v: (
        f"download it in {FACES}, or put {v['files']} in a folder and use {ADD_FOLDER} there"),
    "faces.pack_package_missing": lambda v: "reinstall Glimpse to bring them back",
    "faces.pack_no_address": lambda v: f"add its files with {ADD_FOLDER} in {FACES}",
    "faces.pack_download_failed": lambda v: (
        f"without internet here, download {v['files']} on another computer, put them in one "
        f"folder and use {ADD_FOLDER} in {FACES}"),
    "faces.pack_builtin": lambda v: f"to stop finding faces, turn faces off in {FACES}",
    "faces.file_missing": lambda v: f"reinstall Glimpse, or download the face pack in {FACES}",
    # Search.
    "search.unknown_person": lambda v: ("People in the sidebar shows everyone Glimpse has "
                                        "found; name someone there to search for them"),
    "search.unknown_album": lambda v: "Albums in the sidebar lists them",
    "search.not_embedded": lambda v: ("it is being prepared for searching in the background: "
                                      "try again when the status bar says all is read"),
    # Captions.
    "captions.off": lambda v: f"turn on {CAPTIONS_ON} in {CAPTIONS}",
    "captions.no_consent": lambda v: (f"turn {CAPTIONS_ON} off and on again in {CAPTIONS} to "
                                      "see what is sent and agree to it"),
    "captions.no_key": lambda v: f"set one with {SET_KEY} in {CAPTIONS}",
    "captions.key_refused": lambda v: f"set the right one with {SET_KEY} in {CAPTIONS}",
    "config.url_credentials": lambda v: f"the key goes in {SET_KEY}",
    "config.key_not_a_setting": lambda v: f"set the key with {SET_KEY} in {CAPTIONS}",
    "watch.already": lambda v: ("close the other Glimpse window, or stop the watch running in "
                                "a terminal, first"),
    "albums.smart_no_query": lambda v: "type the search the album shows",
}


def say(what: BaseException | Notice) -> str:
    """A core error or notice in the window's words."""
    notice = what if isinstance(what, Notice) else notice_of(what)
    hint = _HINTS.get(notice.code)
    return joined(notice.text, hint(notice.values) if hint is not None else "", ": ")
