"""duban core: the obligation model, storage, services and the plugin host.

Nothing here imports textual; the terminal UI lives in ``duban.tui``.
"""

__version__ = "0.1.0"
