"""The command line for humans: `pytest-single-k8s COMMAND` (up, status, kubeconfig, kubectl, logs, down, images)."""
