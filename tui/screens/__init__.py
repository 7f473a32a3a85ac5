"""Screens of the duban TUI. Each loads its data in a thread worker (``load``) and lays it
out when the worker hands it back (``show``)."""
