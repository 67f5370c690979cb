"""`python -m app_server`: the same as the `app-server` command."""

from app_server.cli import main

raise SystemExit(main())
