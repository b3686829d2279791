import Foundation

/// The few DER encodings a certificate revocation list needs that swift-certificates 1.21 does
/// not expose (it parses CRLs nowhere and writes none): tag-length-value building, INTEGER,
/// OBJECT IDENTIFIER, the X.509 Time choice, BIT and OCTET STRING. Names come from
/// swift-certificates' own serializer, so the CRL's issuer is byte-identical to the CA's subject
/// (OpenSSL matches them byte for byte).
enum DERWriter {
    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] { [tag] + length(content.count) + content }

    static func sequence(_ parts: [UInt8]...) -> [UInt8] { tlv(0x30, parts.flatMap { $0 }) }

    static func sequence(of parts: [[UInt8]]) -> [UInt8] { tlv(0x30, parts.flatMap { $0 }) }

    /// A context-specific, constructed, explicit tag ([n] EXPLICIT).
    static func explicit(_ number: UInt8, _ content: [UInt8]) -> [UInt8] { tlv(0xA0 | number, content) }

    static func octetString(_ bytes: [UInt8]) -> [UInt8] { tlv(0x04, bytes) }

    /// A BIT STRING of whole bytes (no unused bits).
    static func bitString(_ bytes: [UInt8]) -> [UInt8] { tlv(0x03, [0] + bytes) }

    static func enumerated(_ value: UInt8) -> [UInt8] { tlv(0x0A, [value]) }

    static func integer(_ value: Int) -> [UInt8] {
        precondition(value >= 0, "only non-negative integers are written")
        var bytes: [UInt8] = []
        var v = value
        repeat {
            bytes.insert(UInt8(v & 0xFF), at: 0)
            v >>= 8
        } while v > 0
        return integer(unsignedBigEndian: bytes)
    }

    /// A non-negative INTEGER from big-endian magnitude bytes: minimal, with a 0x00 in front
    /// when the top bit is set (DER INTEGERs are two's complement).
    static func integer(unsignedBigEndian bytes: [UInt8]) -> [UInt8] { tlv(0x02, minimalUnsigned(bytes)) }

    static func minimalUnsigned(_ bytes: [UInt8]) -> [UInt8] {
        var b = Array(bytes.drop { $0 == 0 })
        if b.isEmpty { b = [0] }
        if b[0] & 0x80 != 0 { b.insert(0, at: 0) }
        return b
    }

    static func objectIdentifier(_ components: [UInt]) -> [UInt8] {
        precondition(components.count >= 2, "an OID has at least two components")
        var content = base128(components[0] * 40 + components[1])
        for c in components.dropFirst(2) { content += base128(c) }
        return tlv(0x06, content)
    }

    /// RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050, always UTC to the second.
    static func time(_ date: Date) -> [UInt8] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let year = c.year ?? 1970
        let rest = [c.month, c.day, c.hour, c.minute, c.second].map { String(format: "%02d", $0 ?? 0) }.joined()
        if year < 2050 {
            return tlv(0x17, Array((String(format: "%02d", year % 100) + rest + "Z").utf8))
        }
        return tlv(0x18, Array((String(format: "%04d", year) + rest + "Z").utf8))
    }

    private static func base128(_ value: UInt) -> [UInt8] {
        var out: [UInt8] = [UInt8(value & 0x7F)]
        var v = value >> 7
        while v > 0 {
            out.insert(UInt8(v & 0x7F) | 0x80, at: 0)
            v >>= 7
        }
        return out
    }

    private static func length(_ n: Int) -> [UInt8] {
        if n < 0x80 { return [UInt8(n)] }
        var bytes: [UInt8] = []
        var v = n
        while v > 0 {
            bytes.insert(UInt8(v & 0xFF), at: 0)
            v >>= 8
        }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    /// PEM armour, 64 base64 characters per line.
    static func pem(_ der: [UInt8], label: String) -> String {
        let base64 = Data(der).base64EncodedString()
        var lines: [String] = []
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[index..<end]))
            index = end
        }
        return "-----BEGIN \(label)-----\n" + lines.joined(separator: "\n") + "\n-----END \(label)-----\n"
    }
}
