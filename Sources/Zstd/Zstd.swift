// Zstd: being written.
