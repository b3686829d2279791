import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Blocking Unix-domain stream sockets carrying length-prefixed frames.
enum UnixSocket {
    static func address(_ path: String) throws(AgentError) -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else {
            throw .invalidConfig(
                field: "socketPath", detail: "'\(path)' is longer than the \(capacity - 1)-byte limit of Unix socket paths")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { buf in
            for (i, b) in bytes.enumerated() { buf[i] = b }
        }
        return addr
    }

    static func listen(_ path: String) throws(AgentError) -> Int32 {
        var addr = try address(path)
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DurableFile.failure(path, "socket", errno) }
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard ok == 0, Glibc.listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            throw DurableFile.failure(path, "bind/listen on", code)
        }
        return fd
    }

    static func connect(_ path: String) throws(AgentError) -> Int32 {
        var addr = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DurableFile.failure(path, "socket", errno) }
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard ok == 0 else {
            let code = errno
            close(fd)
            throw DurableFile.failure(path, "connect to", code)
        }
        return fd
    }

    static func writeFrame(_ fd: Int32, _ payload: [UInt8]) throws(AgentError) {
        var frame: [UInt8] = []
        InferenceWire.append32(&frame, UInt32(payload.count))
        try DurableFile.writeAll(fd, frame + payload, path: "socket")
    }

    /// nil on a clean end of stream before the frame starts.
    static func readFrame(_ fd: Int32) throws(AgentError) -> [UInt8]? {
        guard let header = try readExactly(fd, 4) else { return nil }
        let length = Int(InferenceWire.read32(header[...]))
        guard length <= InferenceWire.maxFrameBytes else {
            throw .inferenceFailed(detail: InferenceWire.WireError.tooLarge(bytes: length).description)
        }
        guard let body = try readExactly(fd, length) else { throw .inferenceFailed(detail: "the peer closed the socket mid-frame") }
        return body
    }

    static func readExactly(_ fd: Int32, _ n: Int) throws(AgentError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: n)
        var done = 0
        while done < n {
            let r = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress.map { $0 + done }, n - done) }
            if r < 0, errno == EINTR { continue }
            guard r >= 0 else { throw DurableFile.failure("socket", "read", errno) }
            if r == 0 {
                if done == 0 { return nil }
                throw .inferenceFailed(detail: "the peer closed the socket mid-frame")
            }
            done += r
        }
        return buffer
    }
}
