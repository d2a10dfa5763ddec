"""People: everyone the face pack found, and what a person does with them.

Two pages in one widget:

- The people grid: round face covers with the name (or "Unnamed", dimmed) and the number of
  photos; a header with the counts and a "Show hidden" switch. Names are edited in place (F2,
  or a click on the name); several people are merged with "Merge" or by dropping one onto
  another; a context menu renames, merges, hides, shows photos or forgets.
- One person: their name (editable), "Show all N photos", and their faces, several at a time:
  "Not this person", "Move to new person", "Use as cover", "Open photo".

Every core call goes through ``Tasks``: actions one at a time in the order they were asked
for, reads on their own pool; the grid is refreshed from the library after each action, and a
failure is shown in the view's message bar, never dropped. Face covers are read off the GUI
thread (the aligned face crop, or the photo's grid thumbnail cut to the face box when the crop
is missing) and only turned into pixmaps on it.
"""


from glimpse_desktop.gui.people.view import PeopleView

__all__ = ["PeopleView"]
