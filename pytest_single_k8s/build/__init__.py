"""Building the images: versions, the Go proxy, Go builds, the Debian rootfs; recipes are data."""
