pytest_plugins = ["tests.db_backends"]
