"""Wire types of the Codex app-server protocol v2 subset this server speaks: models, registries, error codes."""
