"""The photo viewer: one photo large, its details beside it, the faces in it named in place.

- The image is the cached 1280 px preview first (made off the GUI thread when missing); when
  zoom asks for more pixels than the preview has, the original is decoded at full resolution
  off the GUI thread and drawn instead from then on, in the same place: the scene is laid out
  in the original's pixels, so swapping images never moves the view. The next and previous
  photos' previews are read ahead, so stepping through photos is instant.
- Everything read from the library (the photo's details, its faces, names) and every action
  (naming a face, "not this person") runs through ``Tasks``; results come back to the GUI
  thread, and a result for a photo no longer shown is dropped.
- Faces are boxes with the person's name; a click on one offers to name it, to say it is not
  that person, or to show every photo of them. Errors from the library are shown, never
  swallowed.
"""


from glimpse_desktop.gui.viewer.parts import exposure_text, face_label, long_date, place_text
from glimpse_desktop.gui.viewer.view import Viewer

__all__ = ["Viewer", "exposure_text", "face_label", "long_date", "place_text"]
