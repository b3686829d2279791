#if canImport(Glibc)
    import Glibc
#endif

/// The process's open-file limit, raised for a fleet of MQTT connections (3 descriptors each:
/// the socket and libmosquitto's socket pair) plus the files the agents open.
enum OpenFileLimit {
    static func needed(devices: Int) -> Int { devices * 3 + 256 }

    /// Raises the soft limit to `needed` (and the hard limit too when the process may, as
    /// root); throws when the process still may not open that many.
    static func ensure(_ needed: Int) throws(SimulatorError) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let want = rlim_t(needed)
        if limit.rlim_cur >= want { return }
        if limit.rlim_max < want {
            var raised = limit
            raised.rlim_max = want
            raised.rlim_cur = want
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return }
        }
        limit.rlim_cur = min(want, limit.rlim_max)
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        guard limit.rlim_cur >= want else { throw .openFileLimit(needed: needed, allowed: Int(limit.rlim_cur)) }
    }
}
