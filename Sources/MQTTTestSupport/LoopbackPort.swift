import Glibc

/// TCP ports on 127.0.0.1: finding a free one, and checking whether something listens on one.
/// Public for tests that start mosquitto with a config of their own (the shipped one).
public enum LoopbackPort {
    /// Asks the kernel for a free port by binding 127.0.0.1:0, reads it back and closes the
    /// socket. Another process may take the port before the broker binds it; the broker's
    /// launcher detects "Address already in use" and tries again with another port.
    public static func reserveFree(avoiding taken: Set<Int> = []) throws -> Int {
        for _ in 0..<20 {
            let port = try bindEphemeral()
            if !taken.contains(port) { return port }
        }
        throw MosquittoBrokerError(
            .portInUse, "the kernel kept handing out ports already given to live test brokers; stop some brokers")
    }

    /// True when a TCP connection to 127.0.0.1:`port` completes within `timeoutMilliseconds`.
    ///
    /// The connect is non-blocking and bounded by poll(), so a full accept backlog cannot hold
    /// the caller for the kernel's SYN-retry minutes.
    public static func acceptsConnections(_ port: Int, timeoutMilliseconds: Int32 = 50) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopbackAddress(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&descriptor, 1, timeoutMilliseconds) == 1 else { return false }
        var socketError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length) == 0 else { return false }
        return socketError == 0
    }

    private static func bindEphemeral() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw MosquittoBrokerError(
                .portInUse, "socket() failed with errno \(errno) while looking for a free port; is the open-file limit exhausted?")
        }
        defer { close(fd) }
        var address = loopbackAddress(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            throw MosquittoBrokerError(.portInUse, "bind(127.0.0.1:0) failed with errno \(errno); is the loopback interface up?")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            throw MosquittoBrokerError(.portInUse, "getsockname() failed with errno \(errno) on a loopback socket")
        }
        return Int(UInt16(bigEndian: actual.sin_port))
    }

    private static func loopbackAddress(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        return address
    }
}
