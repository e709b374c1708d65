"""The knowledge base: playbooks loaded from YAML, validated, searchable."""
