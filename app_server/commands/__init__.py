"""Subcommands of the `app-server` command line, each registered onto its argparse parser."""
