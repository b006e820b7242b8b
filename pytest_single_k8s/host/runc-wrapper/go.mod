module pytest-single-k8s/runc-wrapper

go 1.22
