public import Foundation

/// Why a certificate was revoked: the RFC 5280 CRLReason codes an operator can pick.
public enum RevocationReason: String, Codable, Sendable, CaseIterable {
    case unspecified
    case keyCompromise
    case affiliationChanged
    case superseded
    case cessationOfOperation

    /// The CRLReason ENUMERATED value.
    var code: UInt8 {
        switch self {
        case .unspecified: return 0
        case .keyCompromise: return 1
        case .affiliationChanged: return 3
        case .superseded: return 4
        case .cessationOfOperation: return 5
        }
    }
}

/// One revoked certificate, as the CA directory's `revoked.json` records it.
public struct RevokedCertificate: Codable, Sendable, Equatable {
    /// The serial number, upper-case hexadecimal without leading zero bytes (as
    /// `openssl x509 -serial` prints it, modulo a leading 00).
    public var serial: String
    /// The certificate's common name (device or coordinator id), when revoked from its file.
    public var commonName: String?
    public var revokedAt: Date
    public var reason: RevocationReason

    public init(serial: String, commonName: String?, revokedAt: Date, reason: RevocationReason) {
        self.serial = serial
        self.commonName = commonName
        self.revokedAt = revokedAt
        self.reason = reason
    }
}

/// The CA's revocation state: every revoked certificate and the number the next CRL carries
/// (RFC 5280 cRLNumber: monotonically increasing, so a broker or auditor can tell a newer CRL
/// from an older one).
public struct RevocationRegistry: Codable, Sendable, Equatable {
    public var nextCRLNumber: Int
    public var revoked: [RevokedCertificate]

    public init(nextCRLNumber: Int = 1, revoked: [RevokedCertificate] = []) {
        self.nextCRLNumber = nextCRLNumber
        self.revoked = revoked
    }

    /// Normalises a serial given by an operator ("0x…", colons, lower case, leading zeros).
    public static func normalizedSerial(_ text: String) -> String? {
        var t = text.trimmingCharacters(in: .whitespaces).uppercased()
        if t.hasPrefix("0X") { t.removeFirst(2) }
        t.removeAll { $0 == ":" }
        guard !t.isEmpty, t.count <= 40, t.allSatisfy({ $0.isHexDigit }) else { return nil }
        let trimmed = t.drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }

    /// The serial's magnitude bytes, big-endian.
    static func serialBytes(_ normalized: String) -> [UInt8] {
        let padded = normalized.count % 2 == 1 ? "0" + normalized : normalized
        var bytes: [UInt8] = []
        var index = padded.startIndex
        while index < padded.endIndex {
            let next = padded.index(index, offsetBy: 2)
            bytes.append(UInt8(padded[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let text = bytes.map { String(format: "%02X", $0) }.joined()
        let trimmed = text.drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }
}
