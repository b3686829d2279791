import Glibc

/// One MQTT 3.1.1 CONNECT over a raw socket, for knowing that a broker is ready: RabbitMQ
/// binds its MQTT port before the plugin can serve a session, so an accepted TCP connection
/// alone does not mean clients will get a CONNACK.
enum MQTTConnectProbe {
    /// True when 127.0.0.1:`port` answers a clean-session CONNECT with CONNACK "accepted"
    /// within `timeoutMilliseconds`; the probe then disconnects.
    static func accepts(port: Int, clientID: String = "flotilla-probe", timeoutMilliseconds: Int32 = 2000) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return false }
        let packet = connectPacket(clientID: clientID)
        let sent = packet.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == packet.count else { return false }
        var reply = [UInt8](repeating: 0, count: 4)
        var received = 0
        while received < 4 {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, timeoutMilliseconds) == 1 else { return false }
            let n = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress.map { $0 + received }, 4 - received, 0) }
            guard n > 0 else { return false }
            received += n
        }
        let disconnect: [UInt8] = [0xE0, 0x00]
        _ = disconnect.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        // CONNACK, remaining length 2, no session present, return code 0.
        return reply == [0x20, 0x02, 0x00, 0x00]
    }

    /// CONNECT for MQTT 3.1.1 ("MQTT", level 4), clean session, keepalive 10 s.
    static func connectPacket(clientID: String) -> [UInt8] {
        let id = Array(clientID.utf8.prefix(23))
        var variable: [UInt8] = [0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x0A]
        variable += [UInt8(id.count >> 8), UInt8(id.count & 0xFF)] + id
        return [0x10, UInt8(variable.count)] + variable
    }
}
