import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The service manager's end of sd_notify for tests: a bound AF_UNIX datagram socket (a path,
/// or an abstract name given with a leading `@`) that collects the datagrams it receives.
final class NotifySocketReceiver {
    let address: String
    private let fd: Int32

    struct SetupError: Error, CustomStringConvertible {
        var description: String
    }

    init(address: String) throws {
        self.address = address
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SetupError(description: "socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var path = Array(address.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        if abstract { path[0] = 0 }
        guard path.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            close(fd)
            throw SetupError(description: "address too long: \(address)")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(2 + path.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw SetupError(description: "bind \(address): \(message)")
        }
        // Receives wake up every 100 ms so a caller's deadline is checked.
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
        if !address.hasPrefix("@") { unlink(address) }
    }

    /// The next datagram, or nil when none arrives before `deadline`.
    func receive(until deadline: Date) -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { return String(decoding: buffer[0..<n], as: UTF8.self) }
        }
        return nil
    }

    /// Datagrams until `stop` says enough or `deadline` passes.
    func collect(until deadline: Date, stop: ([String]) -> Bool) -> [String] {
        var received: [String] = []
        while !stop(received), let d = receive(until: deadline) { received.append(d) }
        return received
    }
}
