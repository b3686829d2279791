// ModelArtifact: the device file format (mmap-able, sectioned, digested, Ed25519-signed manifest,
// zstd-compressed for transport). Being built under issue #4.
