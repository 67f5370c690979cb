"""What every test shares: the daemon client (`daemon`), config.toml (`config`), processes (`processes`)."""
