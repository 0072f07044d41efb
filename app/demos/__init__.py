"""The demo contract and demo discovery. Imports no torch: the web process uses it too."""
