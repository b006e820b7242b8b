"""The command line for humans: `python -m pytest_single_k8s images|down`."""
