# The plugin's own tests drive pytest sessions in a sandbox with pytester.
pytest_plugins = ["pytester"]
