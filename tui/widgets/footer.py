"""The footer, with binding descriptions in the current language."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from duban.core.i18n import t


class LocalFooter(Footer):
    """Bindings are declared with English descriptions (msgids); shown through ``t()``."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                widget.description = t(widget.description)
                if widget.tooltip:
                    widget.tooltip = t(str(widget.tooltip))
            yield widget
