"""duban's terminal UI (Textual). Importing this package imports no textual."""
