"""glimpse-colors: dominant colour names for Glimpse Desktop photos.

An example of a third-party plugin (see README.md, the plugin author's guide). The hooks are
in ``glimpse_colors.plugin``, which the ``glimpse_desktop.plugins`` entry point names.
"""

__version__ = "0.1.0"
