"""duban's built-in domain plugins; each registers through the ``duban`` entry point group."""
