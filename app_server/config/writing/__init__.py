"""`config/value/write` and `config/batchWrite`: edits of the user's config.toml by key path.

Every edit is applied in memory, the result validated by the loader the daemon uses, then written
once, atomically, under an inter-process lock; comments and layout are kept (tomlkit).
"""
