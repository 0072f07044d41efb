"""Subcommands of `backprop`, one module per concern, each with register(cli)."""
