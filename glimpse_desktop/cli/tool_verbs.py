"""The verbs about Glimpse itself rather than the photos: settings (config), models, the
machine it runs on (doctor) and the plugins it has loaded (plugins). Models, doctor and
plugins run without a library."""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from glimpse_desktop import __version__
from glimpse_desktop.api import PluginInfo, SystemLibraries, load_plugins
from glimpse_desktop.api.library import (
    DownloadError,
    Library,
    LibraryError,
    LibraryPaths,
    ModelError,
    Registry,
    face_pack_list,
    model_list,
)
from glimpse_desktop.api.plugins import ENTRY_POINT_GROUP, ENV_DISABLE, HOOKS_VERSION
from glimpse_desktop.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    emit_json,
    job,
    jsonable,
    plural,
)
from glimpse_desktop.cli.verbs import Verb
from glimpse_desktop.kernel.progress import Cancelled

__all__ = ["VERBS"]


def cmd_config(lib: Library, args: argparse.Namespace) -> int:
    action = args.action
    if action in ("get", "set", "unset") and not args.key:
        raise LibraryError(f"give the setting's name: `glimpse config {action} KEY`"
                           + (" VALUE`" if action == "set" else ""))
    if action == "list":
        items = lib.config.items()
        if args.json:
            emit_json(items)
            return EXIT_OK
        for item in items:
            value = item.value
            shown = ("true" if value else "false") if isinstance(value, bool) else str(value)
            print(f"{item.name} = {shown or '(empty)'}  [{item.source}]")
            print(f"    {item.help}")
        return EXIT_OK
    if action == "get":
        item = lib.config.describe(args.key)
        if args.json:
            emit_json(item)
        else:
            value = item.value
            print(("true" if value else "false") if isinstance(value, bool) else value)
        return EXIT_OK
    if action == "set":
        if args.value is None:
            raise LibraryError(f"give a value: `glimpse config set {args.key} VALUE`")
        value = lib.config.set(args.key, args.value)
        item = lib.config.describe(args.key)
        if args.json:
            emit_json(item)
        else:
            print(f"{args.key} = {value}")
        if item.source == "environment":
            print(f"glimpse: the environment's {item.env} overrides it for now",
                  file=sys.stderr)
        return EXIT_OK
    if action == "unset":
        lib.config.unset(args.key)
        if args.json:
            emit_json(lib.config.describe(args.key))
        else:
            print(f"{args.key} is back to its default")
        return EXIT_OK
    host = lib.captions.destination().host
    if action == "set-key":
        if sys.stdin.isatty():
            key = getpass.getpass(f"API key for {host} (not shown): ")
        else:
            key = sys.stdin.readline()
        lib.captions.set_api_key(key)
        print(f"The key for {host} is kept in the OS keyring.", file=sys.stderr)
        return EXIT_OK
    removed = lib.captions.delete_api_key()
    print(f"The key for {host} was removed from the OS keyring." if removed else
          f"The OS keyring held no key for {host}.", file=sys.stderr)
    return EXIT_OK


def _registry(lib: Library | None, args: argparse.Namespace) -> Registry:
    return lib.models if lib is not None else Registry(LibraryPaths.resolve(args.library).models)


def cmd_models(lib: Library | None, args: argparse.Namespace) -> int:
    action = args.action
    registry = _registry(lib, args)
    if action == "list":
        rows = lib.model_list() if lib is not None else model_list(registry, None, None)
        packs = (lib.face_pack_list() if lib is not None
                 else face_pack_list(registry, None))
        if args.json:
            emit_json({"model_dir": str(registry.model_dir), "models": rows,
                         "face_packs": packs})
            return EXIT_OK
        print("Search (CLIP):")
        for r in rows:
            state = "installed" if r.installed else "not installed"
            flags = [f for f, on in (("default", r.default), ("in use", r.active),
                                     ("switching to", r.target)) if on]
            size = f", {r.size / 1e6:.0f} MB" if r.size else ""
            print(f"{r.id:<20} {r.name} — {state}{size}"
                  + (f" [{', '.join(flags)}]" if flags else ""))
            if r.summary:
                print(f"{'':<20} {r.summary}")
            print(f"{'':<20} licence: {r.licence}")
            if not r.installed:
                fetched = ", ".join(f.file for f in r.files if f.role != "vocab")
                print(f"{'':<20} download: "
                      + (f"its ONNX export ({fetched}), no torch needed" if r.exported else
                         f"its weights ({fetched}), converted here with torch")
                      + " (--json lists the addresses)")
        print("Faces:")
        for p in packs:
            state = ("comes with Glimpse" if p.builtin else
                     "installed" if p.installed else "not installed")
            flags = [f for f, on in (("default", p.default), ("in use", p.active)) if on]
            print(f"{p.id:<20} {p.name} — {state}"
                  + (f" [{', '.join(flags)}]" if flags else ""))
            if p.summary:
                print(f"{'':<20} {p.summary}")
            print(f"{'':<20} licence: {p.licence}")
        print(f"Model folder: {registry.model_dir}")
        return EXIT_OK
    if not args.model and action == "download":
        default = registry.default()
        args.model = default.id
        print(f"Downloading the default search model, {default.id} ({default.name}); "
              "`glimpse models list` shows the others.", file=sys.stderr)
    if not args.model:
        raise LibraryError(f"`glimpse models {action}` needs a model id (see `glimpse models "
                           "list`)")
    model_id = args.model
    if action == "remove":
        removed = lib.remove_model(model_id) if lib is not None else registry.remove(model_id)
        if not removed:
            # As for the other verbs with nothing to do: said, and not an error.
            print(f"glimpse: {model_id} is not installed (nothing to do)", file=sys.stderr)
            return EXIT_OK
        print(f"Removed {model_id}.")
        return EXIT_OK
    if registry.is_face_pack(model_id):
        return _face_pack_action(lib, registry, args)
    if action == "use":
        if lib is None:
            raise LibraryError("there is no library yet: `glimpse add FOLDER` creates it")
        if registry.installed(model_id) is None:
            raise LibraryError.of(registry.missing(model_id))
        lib.use_model(model_id)
        status = lib.semantic.status()
        if status.active == model_id:
            print(f"Search uses {model_id}.")
        else:
            print(f"Chose {model_id}: run `glimpse index` to embed the photos with it "
                  f"({status.backlog} to do); search keeps using {status.active} "
                  "until then.")
        return EXIT_OK
    entry = registry.entry(model_id)
    print(f"{entry.name}: licence {entry.licence}"
          + (f" ({entry.licence_url})" if entry.licence_url else ""), file=sys.stderr)
    if action == "add" and not args.file:
        raise LibraryError(f"`glimpse models add {model_id} FILE`: which file?")
    try:
        with job() as (bar, token):
            if action == "download":
                installed = (lib.download_model(model_id, progress=bar, cancel=token)
                             if lib is not None else
                             registry.download(model_id, progress=bar, cancel=token))
            else:
                installed = (lib.add_model(model_id, args.file, progress=bar, cancel=token)
                             if lib is not None else
                             registry.add(model_id, Path(args.file), progress=bar,
                                          cancel=token))
    except Cancelled:
        print("Interrupted: run the same command again to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (DownloadError, ModelError) as exc:
        raise LibraryError(str(exc)) from exc
    print(f"Installed {model_id} ({installed.size / 1e6:.0f} MB, sha256 {installed.sha256}) "
          f"in {installed.folder}.")
    if lib is not None and lib.semantic.status().backlog:
        print("Run `glimpse index` to embed your photos with it.")
    return EXIT_OK


def _face_pack_action(lib: Library | None, registry: Registry, args: argparse.Namespace
                      ) -> int:
    pack = registry.face_pack(args.model)
    if args.action == "use":
        if lib is None:
            raise LibraryError("there is no library yet: `glimpse add FOLDER` creates it")
        status = lib.use_face_pack(pack.id)
        print(f"People now uses {pack.id}: `glimpse index` looks at "
              f"{plural(status.backlog, 'photo')} with it; names and rejections are "
              "carried over to the faces it finds.")
        return EXIT_OK
    if pack.package is not None:
        print(f"{pack.id} comes with Glimpse (in the {pack.package} package): there is nothing "
              "to download or add.")
        return EXIT_OK
    print(f"{pack.name}: licence {pack.licence}"
          + (f" ({pack.licence_url})" if pack.licence_url else ""), file=sys.stderr)
    if pack.restricted and not args.accept_licence:
        if not sys.stdin.isatty():
            raise LibraryError(f"{pack.id} is under a restricted licence ({pack.licence}); "
                               "add --accept-licence to agree to it")
        answer = input("Do you accept this licence? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("Nothing was downloaded.", file=sys.stderr)
            return EXIT_ERROR
    if args.action == "add" and not args.file:
        raise LibraryError(f"`glimpse models add {pack.id} FOLDER`: which folder?")
    try:
        with job() as (bar, token):
            if args.action == "download":
                digests = registry.download_face_pack(pack.id, progress=bar, cancel=token)
            else:
                digests = registry.add_face_pack(pack.id, Path(args.file), progress=bar,
                                                 cancel=token)
    except Cancelled:
        print("Interrupted: run the same command again to resume.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (DownloadError, ModelError) as exc:
        raise LibraryError(str(exc)) from exc
    print(f"Installed {pack.id} in {registry.face_folder(pack)} "
          f"({', '.join(f'{k} sha256 {v[:12]}…' for k, v in digests.items())}). "
          f"`glimpse models use {pack.id}` switches People to it.")
    return EXIT_OK


def cmd_doctor(lib: Library | None, args: argparse.Namespace) -> int:
    from glimpse_desktop.api.doctor import doctor

    info = lib.doctor() if lib is not None else doctor(LibraryPaths.resolve(args.library))
    if args.json:
        emit_json(info)
        return EXIT_OK

    def show(data: dict[str, Any], indent: str = "") -> None:
        for key, value in data.items():
            if isinstance(value, dict):
                print(f"{indent}{key}:")
                show(value, indent + "  ")
            elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                # Records in a list (each runtime measured): a line of each one's plain
                # values, what they hold beneath it.
                print(f"{indent}{key}:")
                for item in value:
                    flat = {k: v for k, v in item.items() if not isinstance(v, (dict, list))}
                    print(f"{indent}  - " + ", ".join(f"{k}: {'-' if v is None else v}"
                                                      for k, v in flat.items()))
                    show({k: v for k, v in item.items() if k not in flat}, indent + "    ")
            else:
                print(f"{indent}{key}: {'-' if value is None else value}")

    # The report as --json has it (records as their fields, notices as their words), one
    # "key: value" line each; the system libraries in words, with the command to run.
    report = json.loads(json.dumps(info, default=jsonable))
    report.pop("system_libraries", None)
    if not report.get("image_runtimes"):
        # An empty list says nothing to a person: why there is none, and how one comes.
        report["image_runtimes"] = (
            "none: no search model is installed. When one is, the runtime of its image "
            "tower (ONNX Runtime or OpenVINO, on the best device here) is chosen by "
            "measuring each on the first photos it embeds, and remembered")
    show(report)
    for line in _system_libraries_lines(info.system_libraries):
        print(line)
    return EXIT_OK


def _system_libraries_lines(found: SystemLibraries) -> list[str]:
    head = "system libraries (the window's, Qt's X11 plugin):"
    if found.state == "ok":
        return [f"{head} all {found.found} found"]
    if found.state == "not_linux":
        return [f"{head} not needed on this system"]
    if found.state == "no_plugin":
        return [f"{head} not checked: PySide6's X11 plugin is not at {found.plugin}"]
    if found.state == "no_ldd":
        return [f"{head} not checked: this system has no ldd"]
    lines = [f"{head} {len(found.missing)} missing on {found.distribution}: "
             f"{', '.join(found.missing)}"]
    if found.install:
        lines.append(f"  install them with: {found.install}")
    if found.unknown and found.manager not in ("dnf", "zypper"):
        lines.append(f"  and the packages that provide: {', '.join(found.unknown)}")
    return lines


# ---------------------------------------------------------------------------- plugins


def _listed(infos: list[PluginInfo]) -> list[PluginInfo]:
    """The plugins to list: a hook that failed is its plugin's problem, not a plugin of its
    own (the host keeps it under ``plugin.hook``)."""
    names = {info.name for info in infos}
    return [info for info in infos
            if not ("." in info.name and info.name.split(".", 1)[0] in names)]


def _loaded(info: PluginInfo) -> bool:
    """Registered (its hooks run), even if one of them failed; not when it could not load."""
    return bool(info.hooks) or info.problem is None


def cmd_plugins(lib: Library | None, args: argparse.Namespace) -> int:
    host = load_plugins()
    infos = _listed(host.plugins())
    left_out: dict[str, str] = getattr(args, "verbs_left_out", {})
    hooks_version = ".".join(map(str, HOOKS_VERSION))
    if args.json:
        emit_json({
            "glimpse_version": __version__, "hooks_version": hooks_version,
            "entry_point_group": ENTRY_POINT_GROUP,
            "plugins": [{**dataclasses.asdict(info),
                         "version": __version__ if info.builtin else info.version,
                         "loaded": _loaded(info)} for info in infos],
            "verbs_left_out": [{"verb": verb, "reason": why}
                               for verb, why in left_out.items()]})
        return EXIT_OK
    print(f"Glimpse {__version__}, hooks version {hooks_version}; installed plugins come from "
          f"the {ENTRY_POINT_GROUP!r} entry points.")
    for info in infos:
        version = "built-in" if info.builtin else (info.version or "no version")
        state = (info.module or "") if _loaded(info) else "not loaded"
        print(f"  {info.name:<16} {version:<14} {state}")
        if info.hooks:
            print(f"  {'':<16} hooks: {', '.join(info.hooks)}")
        if info.problem:
            print(f"  {'':<16} problem: {info.problem}")
    for verb, why in left_out.items():
        print(f"  the verb {verb!r} was left out: {why}")
    failed = [info.name for info in infos if not _loaded(info)]
    if failed:
        print(f"{plural(len(failed), 'plugin')} not loaded ({', '.join(failed)}): Glimpse "
              f"runs without {'it' if len(failed) == 1 else 'them'}. {ENV_DISABLE}=NAME,NAME "
              "(or all) keeps installed plugins from loading.", file=sys.stderr)
    return EXIT_OK


# ---------------------------------------------------------------------------- arguments


def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", nargs="?", default="list",
                   choices=("list", "get", "set", "unset", "set-key", "delete-key"))
    p.add_argument("key", nargs="?", metavar="KEY")
    p.add_argument("value", nargs="?", metavar="VALUE")


def _models_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("list", "download", "add", "remove", "use"))
    p.add_argument("model", nargs="?", metavar="ID")
    p.add_argument("file", nargs="?", metavar="FILE",
                   help="for add: the model's ONNX export (a folder or .zip holding its "
                        "image and text towers; no torch needed), or its open_clip weights "
                        "file (converted here, which needs torch); a folder holding both "
                        "files for a face pack")
    p.add_argument("--accept-licence", action="store_true",
                   help="agree to a restricted licence (InsightFace packs) without a prompt")


VERBS = [
    Verb("config", "settings: list, get KEY, set KEY VALUE, unset KEY; set-key / delete-key "
         "keep the captioning service's API key in the OS keyring", cmd_config, _config_args),
    Verb("models", "CLIP models and face packs: list, download [ID] (the default without "
         "one), add ID FILE|FOLDER (no internet), remove ID, use ID", cmd_models,
         _models_args, library="if_exists"),
    Verb("doctor", "versions, paths and compute devices, for bug reports", cmd_doctor,
         library="none"),
    Verb("plugins", "the plugins Glimpse has loaded (its own features and installed ones), "
         "with their hooks and versions, and any that failed to load", cmd_plugins,
         library="none"),
]
