"""Machine names as Go and the release sites spell them (GOARCH), from what platform.machine() says."""

ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
