"""Wire types of the Codex app-server protocol v2 subset we speak: models, registries, error codes."""
