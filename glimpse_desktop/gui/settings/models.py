"""Settings, Search: the search model list (download, verify, install, choose,
remove) and its page.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import (
    QFont,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import FacePackInfo, ModelInfo, PeopleStatus, SearchStatus
from glimpse_desktop.api.library import Library
from glimpse_desktop.gui.settings.common import (
    ROW_HEIGHT,
    Notice,
    Page,
    RowRole,
    ask,
    link_html,
    run_task,
    secondary_text,
    size_text,
    wrapped,
)
from glimpse_desktop.gui.tasks import Job, Jobs, Tasks, describe, duration
from glimpse_desktop.gui.wording import ADD_FILE
from glimpse_desktop.kernel.progress import Progress

# ---------------------------------------------------------------------- models


# A row of the list: a search model or a face pack.
ModelRow = ModelInfo | FacePackInfo


def _switching_to(row: ModelRow) -> bool:
    return isinstance(row, ModelInfo) and row.target


def _builtin(row: ModelRow) -> bool:
    return isinstance(row, FacePackInfo) and row.builtin


def _restricted(row: ModelRow) -> bool:
    return isinstance(row, FacePackInfo) and row.restricted


PHASES = {"download": "Downloading", "verify": "Checking", "copy": "Copying",
          "waiting": "Waiting"}


class ModelList(QWidget):
    """CLIP models or face packs: what is installed and in use, with its licence, and the
    actions a person takes on one (download, add from a file, use, remove).

    ``kind`` is ``"clip"`` or ``"faces"``. Downloads and copies run as jobs, so the window's
    status bar shows them too; the progress is also shown here, with a Cancel button."""

    changed = Signal()          # a model was installed, removed or chosen

    def __init__(self, kind: str, lib: Library, tasks: Tasks, jobs: Jobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if kind not in ("clip", "faces"):
            raise ValueError(f"kind is clip or faces, not {kind!r}")
        self.kind, self.lib, self.tasks, self.jobs = kind, lib, tasks, jobs
        self._rows: dict[str, ModelRow] = {}
        self.job: Job | None = None
        self._job_model: str | None = None
        self.notice = Notice()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(10)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Model" if kind == "clip" else "Face pack", "State", "Size"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        outer.addWidget(self.tree)

        details = QFrame()
        details.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(details)
        box.setContentsMargins(14, 12, 14, 12)
        box.setSpacing(6)
        self.name = QLabel()
        bold = QFont(self.name.font())
        bold.setWeight(QFont.Weight.DemiBold)
        self.name.setFont(bold)
        self.name.setWordWrap(True)
        self.summary = wrapped()
        self.facts = wrapped(secondary=True)
        self.licence = wrapped(rich=True)
        # For a search model not installed: what to fetch on a computer with internet.
        self.fetch = wrapped(secondary=True, rich=True)
        box.addWidget(self.name)
        box.addWidget(self.summary)
        box.addWidget(self.facts)
        box.addWidget(self.licence)
        box.addWidget(self.fetch)

        actions = QHBoxLayout()
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(lambda: self.download(self.selected()))
        self.add_button = QPushButton("Add from File…" if kind == "clip" else "Add from Folder…")
        if kind == "clip":
            # A search model comes as its ONNX export (a folder, or a .zip of one) or as its
            # weights (a file): one dialog cannot pick both a folder and a file, so the
            # button asks which first.
            self.add_menu = QMenu(self.add_button)
            self.add_folder_action = self.add_menu.addAction(
                "Folder of the Exported Model…", lambda: self.choose_file("folder"))
            self.add_file_action = self.add_menu.addAction(
                "Zip of the Exported Model, or Weights File…", lambda: self.choose_file("file"))
            self.add_button.setMenu(self.add_menu)
        else:
            self.add_button.clicked.connect(lambda: self.choose_file("folder"))
        self.use_button = QPushButton("Use This Model" if kind == "clip" else "Use This Pack")
        self.use_button.clicked.connect(lambda: self.use(self.selected()))
        self.remove_button = QPushButton("Remove…")
        self.remove_button.clicked.connect(lambda: self.remove(self.selected()))
        for button in (self.use_button, self.download_button, self.add_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.remove_button)
        box.addSpacing(4)
        box.addLayout(actions)

        progress = QHBoxLayout()
        self.progress_label = secondary_text(QLabel())
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        progress.addWidget(self.progress_label, 2)
        progress.addWidget(self.progress_bar, 3)
        progress.addWidget(self.cancel_button)
        self.progress_row = QWidget()
        self.progress_row.setLayout(progress)
        progress.setContentsMargins(0, 0, 0, 0)
        self.progress_row.hide()
        box.addWidget(self.progress_row)
        box.addWidget(self.notice)
        outer.addWidget(details)
        self._selection_changed()

    # -- reading

    def load(self) -> None:
        fn = self.lib.model_list if self.kind == "clip" else self.lib.face_pack_list
        run_task(self, self.tasks, fn, done=self._show, failed=self._failed, read=True)

    def rows(self) -> list[ModelRow]:
        return list(self._rows.values())

    def row(self, model_id: str) -> ModelRow | None:
        return self._rows.get(model_id)

    def state(self, model_id: str) -> str:
        """The State column as shown."""
        item = self._item(model_id)
        return item.text(1) if item is not None else ""

    def _state(self, row: ModelRow) -> str:
        parts = []
        if row.active:
            parts.append("In use")
        elif _switching_to(row):
            parts.append("Switching to it")
        if _builtin(row):
            parts.append("Comes with Glimpse")
        elif row.installed:
            parts.append("Installed")
        else:
            parts.append("Not installed")
        if row.default:
            parts.append("Recommended")
        return " · ".join(parts)

    def _show(self, rows: list[ModelRow]) -> None:
        chosen = self.selected()
        self._rows = {r.id: r for r in rows}
        self.tree.clear()
        ok = self.style().standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton)
        bold = QFont(self.tree.font())
        bold.setWeight(QFont.Weight.DemiBold)
        for row in rows:
            item = QTreeWidgetItem([row.name, self._state(row), size_text(row.size)])
            item.setData(0, RowRole, row.id)
            item.setSizeHint(0, QSize(0, ROW_HEIGHT))
            item.setToolTip(0, f"{row.name} ({row.id})")
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if row.active:
                item.setIcon(1, ok)
                for col in range(3):
                    item.setFont(col, bold)
            self.tree.addTopLevelItem(item)
        wanted = chosen if chosen in self._rows else next(
            (r.id for r in rows if r.active),
            next((r.id for r in rows if r.default), None))
        if wanted is not None:
            self.select(wanted)
        # A handful of models: the list is as tall as its rows, the details sit under it.
        frame = 2 * self.tree.frameWidth()
        self.tree.setFixedHeight(self.tree.header().sizeHint().height() + frame + 2
                                 + ROW_HEIGHT * max(2, len(rows)))
        self._selection_changed()

    def _failed(self, exc: BaseException) -> None:
        self.notice.warn(f"Could not read the models: {describe(exc)}")

    def _item(self, model_id: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None and item.data(0, RowRole) == model_id:
                return item
        return None

    def select(self, model_id: str) -> None:
        item = self._item(model_id)
        if item is not None:
            self.tree.setCurrentItem(item)

    def selected(self) -> str | None:
        item = self.tree.currentItem()
        return str(item.data(0, RowRole)) if item is not None else None

    def _selection_changed(self) -> None:
        model_id = self.selected()
        row = self._rows.get(model_id or "")
        busy = self.job is not None
        for widget in (self.name, self.summary, self.facts, self.licence, self.fetch):
            widget.setVisible(row is not None)
        if row is None:
            for button in (self.download_button, self.add_button, self.use_button,
                           self.remove_button):
                button.setEnabled(False)
            return
        self.name.setText(row.name)
        self.summary.setText(row.summary)
        self.summary.setVisible(bool(row.summary))
        facts = [f"id {row.id}"]
        if row.dim:
            facts.append(f"{row.dim}-dimensional")
        if row.size:
            facts.append(size_text(row.size))
        r5 = (row.retrieval_r5 if isinstance(row, ModelInfo) else None) or {}
        if r5:
            names = {"flickr30k": "Flickr30k", "mscoco": "MS-COCO"}
            facts.append("retrieval R@5 " + ", ".join(f"{names.get(k, k)} {v:g}"
                                                     for k, v in r5.items()))
        self.facts.setText(" · ".join(facts))
        licence = f"Licence: {link_html(row.licence_url, row.licence)}"
        if _restricted(row):
            licence += ("<br>You are asked to accept this licence before it is downloaded; "
                        "it does not allow commercial use.")
        self.licence.setText(licence)
        self.fetch.setText(self._fetch_text(row))
        self.fetch.setVisible(bool(self.fetch.text()))
        builtin = _builtin(row)
        self.download_button.setEnabled(not busy and not row.installed and not builtin)
        self.add_button.setEnabled(not busy and not row.installed and not builtin)
        self.download_button.setVisible(not row.installed)
        self.add_button.setVisible(not row.installed)
        self.use_button.setEnabled(not busy and row.installed and not row.active
                                   and not _switching_to(row))
        self.use_button.setVisible(row.installed)
        self.remove_button.setEnabled(not busy and row.installed and not builtin)
        self.remove_button.setVisible(row.installed and not builtin)

    @staticmethod
    def _fetch_text(row: ModelRow) -> str:
        """Without internet here: the files to fetch elsewhere, linked, and what to do with
        them (empty for an installed model and for face packs)."""
        if not isinstance(row, ModelInfo) or row.installed:
            return ""
        files = [f for f in row.files if f.role != "vocab" and f.urls]
        if not files:
            return ""
        def shown(url: str) -> str:
            # The file's last two path parts: Hugging Face names both towers model.onnx.
            return "/".join(url.rsplit("/", 2)[-2:]) if row.exported else url.rsplit("/")[-1]

        links = " and ".join(link_html(f.urls[0], shown(f.urls[0]))
                             + (f" saved as {escape(f.file)}" if row.exported else "")
                             for f in files)
        if row.exported:
            return (f"No internet here? On another computer, download {links} into one "
                    f"folder, bring it (or a .zip of it) here and choose it with {ADD_FILE}. "
                    "The vocabulary comes with Glimpse; nothing needs torch.")
        return (f"No internet here? On another computer, download {links}, bring it here and "
                f"choose it with {ADD_FILE}. Converting the weights needs torch and open_clip "
                "installed with Glimpse.")

    # -- changing

    def _confirm_licence(self, row: ModelRow, then: Callable[[], None]) -> None:
        if not _restricted(row):
            then()
            return
        url = row.licence_url
        ask(self, "Licence", f"{row.name} comes under its own licence:",
            f"{row.licence}." + (f"\n\nRead it at {url}" if url else "")
            + "\n\nDo you accept this licence?", "Accept and Download", then,
            icon=QMessageBox.Icon.Warning)

    def download(self, model_id: str | None) -> None:
        """Download a model or face pack (after accepting a restricted licence)."""
        row = self._rows.get(model_id or "")
        if row is None or self.job is not None:
            return
        self._confirm_licence(row, lambda: self._start(row, "download", None))

    def choose_file(self, what: str = "file") -> None:
        """Add from File… : the picker, then ``add_from_file``. ``what``: ``folder`` (a
        search model's exported folder, a face pack's folder) or ``file`` (a .zip of a
        search model's export, or its weights)."""
        model_id = self.selected()
        if model_id is None:
            return
        if self.kind == "clip" and what == "file":
            path, _ = QFileDialog.getOpenFileName(
                self, "Add the Exported Model (.zip) or Its Weights", str(Path.home()),
                "Exported model or weights (*.zip *.safetensors *.pt *.pth *.bin);;"
                "All files (*)")
        elif self.kind == "clip":
            path = QFileDialog.getExistingDirectory(
                self, "Folder Holding the Exported Model (visual and text .onnx files)",
                str(Path.home()))
        else:
            path = QFileDialog.getExistingDirectory(
                self, "Folder Holding the Face Pack Files", str(Path.home()))
        if path:
            self.add_from_file(model_id, path)

    def add_from_file(self, model_id: str, path: str) -> None:
        """Install from local files: a search model's ONNX export (a folder or a .zip) or
        weights file, a face pack's folder; for machines without internet. The files are
        checked and copied; they are left where they are."""
        row = self._rows.get(model_id)
        if row is None or self.job is not None:
            return
        self._confirm_licence(row, lambda: self._start(row, "add", path))

    def _start(self, row: ModelRow, action: str, path: str | None) -> None:
        lib, model_id = self.lib, row.id
        if self.kind == "clip":
            if action == "download":
                def work(progress: Any, cancel: Any) -> Any:
                    return lib.download_model(model_id, progress=progress, cancel=cancel)
            else:
                def work(progress: Any, cancel: Any) -> Any:
                    return lib.add_model(model_id, str(path), progress=progress, cancel=cancel)
        elif action == "download":
            def work(progress: Any, cancel: Any) -> Any:
                return lib.models.download_face_pack(model_id, progress=progress, cancel=cancel)
        else:
            def work(progress: Any, cancel: Any) -> Any:
                return lib.models.add_face_pack(model_id, Path(str(path)), progress=progress,
                                                cancel=cancel)
        self.notice.clear()
        verb = "Downloading" if action == "download" else "Adding"
        self._job_model = model_id
        # Its ends are connected before the job's thread starts (a download refused at once
        # signals early); progress reported before the next line is kept in ``job.last``.
        self.job = self.jobs.start(f"{verb} {row.name}", work, done=self._job_done,
                                   failed=self._job_failed)
        self.job.progress.connect(self._progress)
        self.progress_label.setText(f"{verb}…")
        self.progress_bar.setRange(0, 0)
        self.progress_row.show()
        self._selection_changed()

    def _progress(self, event: Progress) -> None:
        what = PHASES.get(event.phase.split()[0] if event.phase else "", event.phase or "")
        if event.total:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(min(1000, int(event.done * 1000 // event.total)))
            text = f"{what} {size_text(event.done)} of {size_text(event.total)}"
        else:
            self.progress_bar.setRange(0, 0)
            text = f"{what} {size_text(event.done)}" if event.done else f"{what}…"
        if event.rate and event.phase == "download":
            text += f" · {size_text(int(event.rate))}/s"
        if event.eta is not None and event.total and event.eta >= 1:
            text += f" · {duration(event.eta)} left"
        self.progress_label.setText(text)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.progress_label.setText("Cancelling…")

    def _job_ended(self) -> str:
        model_id = self._job_model or ""
        self.job, self._job_model = None, None
        self.progress_row.hide()
        return model_id

    def _job_done(self, result: object) -> None:
        cancelled = self.job is not None and self.job.cancelled
        model_id = self._job_ended()
        done_row = self._rows.get(model_id)
        name = done_row.name if done_row is not None else model_id
        if cancelled:
            self.notice.say("Cancelled. What was downloaded is kept: Download carries on "
                            "from there.")
        else:
            use = "Use This Model" if self.kind == "clip" else "Use This Pack"
            self.notice.say(f"{name} is installed. {use} switches to it.")
        self.load()
        if not cancelled:
            self.changed.emit()

    def _job_failed(self, why: str) -> None:
        self._job_ended()
        self.notice.warn(why)
        self.load()

    def use(self, model_id: str | None) -> None:
        """Make this the model search uses (or the pack People uses)."""
        row = self._rows.get(model_id or "")
        if row is None:
            return
        lib = self.lib
        name, ident = row.name, row.id
        self.notice.clear()
        self.use_button.setEnabled(False)
        if self.kind == "clip":
            run_task(self, self.tasks, lambda: lib.use_model(ident),
                 done=lambda status: self._used_model(name, ident, status),
                 failed=self._use_failed)
        else:
            run_task(self, self.tasks, lambda: lib.use_face_pack(ident),
                 done=lambda status: self._used_pack(name, status),
                 failed=self._use_failed)

    def _used_model(self, name: str, model_id: str, status: SearchStatus) -> None:
        if status.active == model_id:
            self.notice.say(f"Search uses {name}.")
        else:
            todo = status.backlog or 0
            self.notice.say(f"Chose {name}. Your photos are read with it in the background "
                            f"({todo:,} to do); search keeps using the previous model until "
                            "then.")
        self.load()
        self.changed.emit()

    def _used_pack(self, name: str, status: PeopleStatus) -> None:
        todo = status.backlog
        self.notice.say(f"People now uses {name}. {todo:,} photo{'' if todo == 1 else 's'} "
                        "are looked at again with it in the background; names and rejections "
                        "carry over.")
        self.load()
        self.changed.emit()

    def _use_failed(self, exc: BaseException) -> None:
        self._selection_changed()
        self.notice.warn(describe(exc))

    def remove(self, model_id: str | None) -> QMessageBox | None:
        """Ask, then delete the weights (embeddings already made stay in the library)."""
        row = self._rows.get(model_id or "")
        if row is None:
            return None
        lib, ident = self.lib, row.id
        extra = (" Search falls back to file names and text until another model is chosen."
                 if row.active and self.kind == "clip" else "")

        def now() -> None:
            run_task(self, self.tasks, lambda: lib.remove_model(ident),
                 done=lambda _: self._removed(row), failed=self._use_failed)

        return ask(self, "Remove Model", f"Remove {row.name} from this computer?",
                   f"Its files ({size_text(row.size)}) are deleted; you can download or "
                   f"add it again later.{extra}", "Remove", now,
                   icon=QMessageBox.Icon.Warning, destructive=True)

    def _removed(self, row: ModelRow) -> None:
        self.notice.say(f"Removed {row.name}.")
        self.load()
        self.changed.emit()


class SearchModelPage(Page):
    title = "Search Model"
    subtitle = ("The model that lets you find photos by describing them (“kids on a beach”). "
                "It runs on this computer; your photos never leave it.")

    def __init__(self, lib: Library, tasks: Tasks, jobs: Jobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = ModelList("clip", lib, tasks, jobs)
        self.body.addWidget(self.models)
        self.body.addWidget(wrapped(
            "A model comes as its ONNX export (a folder, or a .zip of one: ready to use) or "
            "as its weights (converted here once, which needs torch and open_clip).",
            secondary=True))
        self.body.addStretch(1)

    def load(self) -> None:
        self.models.load()


