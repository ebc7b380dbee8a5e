"""Users, roles, permissions, login, tokens."""
