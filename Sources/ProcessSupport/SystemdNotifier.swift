import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The sd_notify protocol without libsystemd: newline-separated `KEY=VALUE` assignments in one
/// datagram to the AF_UNIX socket named by `$NOTIFY_SOCKET` (a path, or an abstract-namespace
/// name written with a leading `@`). Without the variable — not started by systemd, or the unit
/// is not `Type=notify` — every send is a no-op, so the exes call it unconditionally.
public struct SystemdNotifier: Sendable {
    /// One assignment of the protocol (systemd's sd_notify(3) names).
    public enum Field: Sendable, Equatable {
        /// Startup finished: `Type=notify` units count as started only after this.
        case ready
        /// Shutdown began (`STOPPING=1`), so systemd does not take the silence for a hang.
        case stopping
        /// Keep-alive for `WatchdogSec=`.
        case watchdog
        /// Free-form status line shown by `systemctl status`.
        case status(String)
    }

    /// The socket address as given (`/run/systemd/notify` or `@name`); nil when unset.
    public let socketAddress: String?

    /// `environment` defaults to this process's.
    public init(environment: [String: String]? = nil) {
        let value = (environment ?? ProcessInfo.processInfo.environment)["NOTIFY_SOCKET"] ?? ""
        socketAddress = value.isEmpty ? nil : value
    }

    public var isEnabled: Bool { socketAddress != nil }

    /// The datagram for `fields`, one `KEY=VALUE\n` each. A newline inside a status would start
    /// a second assignment (a status could otherwise say `READY=1`), so it becomes a space.
    public static func message(_ fields: [Field]) -> String {
        fields.map { field in
            switch field {
            case .ready: "READY=1\n"
            case .stopping: "STOPPING=1\n"
            case .watchdog: "WATCHDOG=1\n"
            case .status(let text):
                "STATUS=" + String(text.map { $0.isNewline ? " " : $0 }) + "\n"
            }
        }.joined()
    }

    /// Sends `fields` in one datagram; does nothing when `$NOTIFY_SOCKET` is unset.
    public func send(_ fields: [Field]) throws(SystemdNotifyError) {
        guard let socketAddress, !fields.isEmpty else { return }
        try Self.sendDatagram(Array(Self.message(fields).utf8), to: socketAddress)
    }

    /// `send`, with a failure written to stderr instead of thrown: a lost notification must not
    /// stop the service (systemd then times the start out or restarts it, which is its remedy).
    public func notify(_ fields: Field...) {
        do { try send(fields) } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
        }
    }

    static func sendDatagram(_ bytes: [UInt8], to address: String) throws(SystemdNotifyError) {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var path = Array(address.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        if abstract { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        // A filesystem path needs room for its terminating NUL; an abstract name has none.
        guard path.count >= (abstract ? 2 : 1), path.count + (abstract ? 0 : 1) <= capacity else {
            throw .badAddress(address: address, detail: "an AF_UNIX address is 1 to \(capacity - 1) bytes")
        }
        guard abstract || path[0] == UInt8(ascii: "/") else {
            throw .badAddress(address: address, detail: "it is neither an absolute path nor an @abstract name")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: path)
        }
        let length = socklen_t((MemoryLayout<sockaddr_un>.offset(of: \.sun_path) ?? 2) + path.count + (abstract ? 0 : 1))

        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(call: "socket", address: address, errno: errno) }
        defer { close(fd) }
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &addr) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), sa, length)
                }
            }
        }
        guard sent == bytes.count else { throw .system(call: "sendto", address: address, errno: errno) }
    }
}

/// Why a notification could not be sent.
public enum SystemdNotifyError: Error, Equatable, CustomStringConvertible {
    case badAddress(address: String, detail: String)
    case system(call: String, address: String, errno: Int32)

    public var description: String {
        switch self {
        case .badAddress(let address, let detail):
            "sd_notify: NOTIFY_SOCKET '\(address)' is not usable: \(detail); it is set by systemd for Type=notify units, unset it otherwise"
        case .system(let call, let address, let code):
            "sd_notify: \(call) to '\(address)' failed: \(String(cString: strerror(code))); check that the unit has NotifyAccess=main and the socket exists"
        }
    }
}
