"""The Duplicates review: each group of copies side by side, to keep one and trash the others.

Every copy shows its picture, size, resolution, format, date and folder, and what the library
holds for it (people named on it, the person's albums, a caption, stars, favourite): the copy
Glimpse suggests keeping comes first, marked. "Keep This, Trash Others" resolves one group;
"Keep Suggested in All Groups…" all of them after a confirmation that says how many files go
to the trash. Both run as jobs with progress and Cancel; what a trashed copy had (albums,
names, the person's caption, stars, favourite, tags) goes to the copy kept
(``Library.trash.keep``), and the status bar offers Undo.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QImage, QPalette, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from glimpse_desktop.api import KeepReport, PhotoHoldings
from glimpse_desktop.gui import trash_view
from glimpse_desktop.gui.pages import dimmed, title_font
from glimpse_desktop.gui.widgets import ElidedLabel, fit_title

if TYPE_CHECKING:
    from glimpse_desktop.gui.window import MainWindow

__all__ = ["DuplicatesReview", "GroupCard", "MemberCard"]

# Groups shown at once; "Show more" adds as many again (a library with thousands of groups
# must not build thousands of cards before the first paint).
SHOWN = 60
CARD_WIDTH = 228
THUMB = (212, 160)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{max(1, round(n / 1e3))} kB"


def _when(taken_at: str | None) -> str:
    if not taken_at:
        return "no date"
    try:
        return datetime.fromisoformat(taken_at).strftime("%-d %b %Y %H:%M")
    except ValueError:
        return taken_at


def _holdings_lines(h: PhotoHoldings | None) -> list[str]:
    if h is None:
        return []
    lines = []
    if h.people:
        lines.append("👤 " + ", ".join(h.people))
    if h.albums:
        lines.append("▤ " + ", ".join(h.albums))
    if h.caption:
        who = "your caption" if h.caption_source == "user" else "caption"
        lines.append(f"✎ {who}: {h.caption}")
    judged = []
    if h.rating:
        judged.append("★" * max(0, min(5, h.rating)))
    if h.favorite:
        judged.append("♥ favourite")
    if judged:
        lines.append("  ".join(judged))
    if h.tags:
        lines.append("# " + ", ".join(h.tags))
    return lines or ["nothing added in Glimpse"]


class MemberCard(QFrame):
    """One copy: its picture and facts, and the button that keeps it."""

    def __init__(self, review: DuplicatesReview, group: Any, member: Any,
                 holdings: PhotoHoldings | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.member = member
        suggested = member.id == group.best.id
        self.setObjectName("suggested" if suggested else "copy")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(CARD_WIDTH)
        if suggested:
            self.setStyleSheet("QFrame#suggested { border: 2px solid palette(highlight); "
                               "border-radius: 6px; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(3)
        self.picture = QLabel()
        self.picture.setFixedSize(*THUMB)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setStyleSheet("background: palette(dark);")
        layout.addWidget(self.picture)
        badge = QLabel("✓ Suggested to keep" if suggested else " ")
        if suggested:
            font = QFont(badge.font())
            font.setBold(True)
            badge.setFont(font)
        layout.addWidget(badge)
        name = ElidedLabel(os.path.basename(member.path))
        bold = QFont(name.font())
        bold.setBold(True)
        name.setFont(bold)
        layout.addWidget(name)
        shape = f"{member.width} × {member.height}" if member.width else "size unknown"
        layout.addWidget(QLabel(f"{shape} · {member.format or '?'} · {_size(member.size)}"))
        layout.addWidget(QLabel(_when(member.taken_at)))
        folder = ElidedLabel(os.path.dirname(member.path))
        folder.setToolTip(member.path)
        layout.addWidget(dimmed(folder))
        if member.status == "offline":
            layout.addWidget(dimmed(QLabel("on a drive not connected")))
        self.holdings = QLabel("\n".join(_holdings_lines(holdings)))
        self.holdings.setWordWrap(True)
        self.holdings.setObjectName("holdings")
        layout.addWidget(self.holdings)
        layout.addStretch(1)
        self.keep = QPushButton("Keep This, Trash Others")
        self.keep.setToolTip("Keep this copy and move the others to the trash: their albums, "
                             "names, captions and stars come to this one")
        self.keep.clicked.connect(lambda: review.keep(group, member.id))
        layout.addWidget(self.keep)
        self.show_picture(review)

    def show_picture(self, review: DuplicatesReview) -> None:
        """The whole picture (the cached grid thumbnail, not the grid's square crop: copies
        are compared by their full frame), read off the GUI thread."""
        lib, member = review.lib, self.member

        def read() -> QImage:
            return QImage(str(lib.thumbnail(member.id, "grid")))

        review.window_.tasks.run(read, self._loaded, lambda _exc: None, read=True)

    def _loaded(self, image: QImage) -> None:
        if not image.isNull():
            self.picture.setPixmap(QPixmap.fromImage(image).scaled(
                *THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))


class GroupCard(QFrame):
    """One group: a heading, and its copies side by side (the suggested one first)."""

    def __init__(self, review: DuplicatesReview, n: int, group: Any,
                 holdings: dict[int, PhotoHoldings], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.group = group
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 6)
        kind = "identical files" if group.kind == "exact" else (
            f"look alike ({group.similarity:.0%})" if group.similarity else "look alike")
        check = "" if group.confident else " · check by eye (a thumbnail was missing)"
        heading = QLabel(f"{n}. {len(group.members)} copies · {kind}{check}")
        heading.setFont(title_font(self, 1.1))
        layout.addWidget(heading)
        row = QHBoxLayout()
        row.setSpacing(10)
        self.members = [MemberCard(review, group, m, holdings.get(m.id))
                        for m in group.members]
        for card in self.members:
            row.addWidget(card)
        row.addStretch(1)
        layout.addLayout(row)


class DuplicatesReview(QWidget):
    """The Duplicates page of the sidebar."""

    def __init__(self, window: MainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_ = window
        self.lib = window.lib
        self.groups: list[Any] = []
        self.holdings: dict[int, PhotoHoldings] = {}
        self.cards: list[GroupCard] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        head = QHBoxLayout()
        head.setContentsMargins(16, 10, 16, 4)
        head.setSpacing(6)      # the page's layout has none: its two buttons touched
        self.title = QLabel("Duplicates")
        self.title.setFont(title_font(self))
        self.subtitle = dimmed(QLabel())
        self.subtitle.setWordWrap(True)
        self.subtitle.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.find_button = QPushButton("Look for Duplicates")
        self.find_button.clicked.connect(self.refresh)
        self.keep_all_button = QPushButton("Keep Suggested in All Groups…")
        self.keep_all_button.clicked.connect(self.keep_all)
        self.keep_all_button.setEnabled(False)
        head.addWidget(self.title)
        head.addSpacing(12)
        head.addWidget(self.subtitle, 1)
        head.addWidget(self.find_button)
        head.addWidget(self.keep_all_button)
        layout.addLayout(head)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.body = QWidget()
        # The page's surface is the base colour, as the other photo views' grids are.
        self.body.setBackgroundRole(QPalette.ColorRole.Base)
        self.body.setAutoFillBackground(True)
        self.scroller.viewport().setBackgroundRole(QPalette.ColorRole.Base)
        self.column = QVBoxLayout(self.body)
        self.column.setContentsMargins(0, 0, 0, 16)
        self.column.setSpacing(4)
        self.empty = dimmed(QLabel("Press “Look for Duplicates” to compare every photo. Nothing "
                                   "is deleted unless you choose: copies you do not keep go to "
                                   "the trash, where Recently deleted keeps them 30 days."))
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setContentsMargins(40, 40, 40, 40)
        self.column.addWidget(self.empty)
        self.more = QPushButton(f"Show {SHOWN} More Groups")
        self.more.clicked.connect(self._show_more)
        self.more.hide()
        self.column.addWidget(self.more, 0, Qt.AlignmentFlag.AlignHCenter)
        self.column.addStretch(1)
        self.scroller.setWidget(self.body)
        layout.addWidget(self.scroller, 1)
        self.set_subtitle()

    def set_subtitle(self) -> None:
        if not self.groups:
            self.subtitle.setText("Copies of the same picture: the same file twice, or a "
                                  "resized or re-saved copy. The suggested copy comes first.")
            return
        n = len(self.groups)
        extra = sum(len(g.members) - 1 for g in self.groups)
        self.subtitle.setText(f"{n:,} group{'s' if n != 1 else ''} · {extra:,} extra "
                              f"cop{'ies' if extra != 1 else 'y'}")

    # ------------------------------------------------------------------ finding

    def refresh(self) -> None:
        self.find_button.setEnabled(False)
        self.keep_all_button.setEnabled(False)
        self.empty.setText("Comparing photos…")
        self.empty.show()
        lib = self.lib

        def work(progress: Any, cancel: Any) -> tuple[list[Any], dict[int, PhotoHoldings]]:
            groups = lib.duplicates(progress=progress, cancel=cancel)
            ids = [m.id for g in groups for m in g.members]
            return groups, lib.trash.holdings(ids)

        self.window_.start_job("Looking for duplicates", work, self._found, self._failed)

    def _failed(self, why: str) -> None:
        self.find_button.setEnabled(True)
        self.empty.setText(f"Could not look for duplicates: {why}")
        self.empty.show()

    def _found(self, found: tuple[list[Any], dict[int, PhotoHoldings]] | None) -> None:
        self.find_button.setEnabled(True)
        if found is None:      # cancelled
            self.empty.setText("Cancelled.")
            return
        self.show_groups(*found)

    def show_groups(self, groups: Sequence[Any], holdings: dict[int, PhotoHoldings]) -> None:
        for card in self.cards:
            card.deleteLater()
        self.cards = []
        self.groups = list(groups)
        self.holdings = dict(holdings)
        self._show_more()
        self.set_subtitle()
        self.empty.setText("No duplicates found." if not self.groups else "")
        self.empty.setVisible(not self.groups)
        self.keep_all_button.setEnabled(bool(self.groups))

    def _show_more(self) -> None:
        start = len(self.cards)
        for n, group in enumerate(self.groups[start:start + SHOWN], start + 1):
            card = GroupCard(self, n, group, self.holdings)
            self.column.insertWidget(self.column.indexOf(self.more), card)
            self.cards.append(card)
        left = len(self.groups) - len(self.cards)
        self.more.setVisible(left > 0)
        self.more.setText(f"Show {min(left, SHOWN)} More Group{'s' if left != 1 else ''}")

    # ------------------------------------------------------------------ keeping

    def keep(self, group: Any, kept: int) -> None:
        """Keep one copy of ``group`` and trash the others, as a job."""
        others = [m.id for m in group.members if m.id != kept]
        self._run([(kept, others)], f"Keeping 1 copy, moving {len(others)} to the trash")

    def keep_all(self) -> None:
        """Keep the suggested copy of every group, after a confirmation."""
        if not self.groups:
            return
        extra = sum(len(g.members) - 1 for g in self.groups)
        box = QMessageBox(QMessageBox.Icon.Question, "Keep suggested copies",
                          f"Move {extra:,} file{'s' if extra != 1 else ''} to the trash?",
                          parent=self)
        box.setInformativeText(
            f"In each of the {len(self.groups):,} groups the suggested copy is kept and gets "
            "the others' albums, names, captions and stars. Recently deleted keeps the "
            "others 30 days.")
        go = box.addButton("Move to Trash", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(go)
        fit_title(box)
        box.exec()
        if box.clickedButton() is not go:
            return
        plan = [(g.best.id, [m.id for m in g.members[1:]]) for g in self.groups]
        self._run(plan, f"Moving {extra:,} duplicate{'s' if extra != 1 else ''} to the trash")

    def _run(self, plan: list[tuple[int, list[int]]], name: str) -> None:
        lib, window = self.lib, self.window_
        self.keep_all_button.setEnabled(False)

        def done(reports: list[KeepReport] | None) -> None:
            self.keep_all_button.setEnabled(bool(self.groups))
            if reports is None:
                return
            trashed = [i for r in reports for i in r.trash.photo_ids]
            kept = [r.kept_id for r in reports]
            self._resolved(reports)
            if trashed:
                trash_view.drop_rows(window, trashed)
                window.refresh_rows(kept, held=True)
                window.photos_changed([*kept, *trashed], "edited")
                trash_view.refresh_deleted(window)
            problems = [p for r in reports for p in r.trash.problems]
            text = (f"Kept {len(kept):,} cop{'ies' if len(kept) != 1 else 'y'}, moved "
                    f"{len(trashed):,} to the trash" + trash_view.left_text(problems, "stayed"))
            trash_view.undo_bar(window).offer(
                text, (lambda: trash_view.restore(window, trashed)) if trashed else None)

        window.start_job(name, lambda progress, cancel: lib.trash.keep_many(
            plan, progress=progress, cancel=cancel), done,
            lambda why: window.status.set_idle(f"⚠ {why}"))

    def _resolved(self, reports: Sequence[KeepReport]) -> None:
        """Groups whose other copies all went leave the page."""
        done_groups = set()
        for r in reports:
            left = set(r.trash.photo_ids)
            for g in self.groups:
                if g.best.id == r.kept_id or r.kept_id in {m.id for m in g.members}:
                    others = {m.id for m in g.members if m.id != r.kept_id}
                    if others <= left:
                        done_groups.add(id(g))
        if not done_groups:
            return
        self.show_groups([g for g in self.groups if id(g) not in done_groups], self.holdings)
