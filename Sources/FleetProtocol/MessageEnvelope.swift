import Foundation

/// A JSON message type of the wire contract. Its `messageType` names it in the envelope so a
/// message published on the wrong topic is refused rather than misread.
public protocol WireMessage: Codable, Sendable {
    static var messageType: String { get }
}

/// The protocol version carried in every JSON message as `"v": "major.minor"`. Minor versions
/// only add fields older readers ignore; a new major version is refused.
public struct ProtocolVersion: Sendable, Hashable, Codable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public static let current = ProtocolVersion(major: 1, minor: 0)

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public init?(text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.count <= 9 && $0.allSatisfy(\.isASCII) }),
            let major = Int(parts[0]), let minor = Int(parts[1]), major >= 0, minor >= 0
        else { return nil }
        self.init(major: major, minor: minor)
    }

    public var description: String { "\(major).\(minor)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let v = ProtocolVersion(text: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "version '\(text)' is not major.minor"))
        }
        self = v
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// The JSON frame of every control and telemetry message:
/// `{"v":"1.0","type":"<messageType>","body":{...}}`.
///
/// Encoding is deterministic (sorted keys, no whitespace) so the same message always has the
/// same bytes — what a signature covers. Decoding checks `v` before anything else, then the
/// type, then the body; unknown fields anywhere are ignored (forward compatibility within a
/// major version).
public enum MessageEnvelope {
    /// Messages are small; anything bigger is refused before JSON parsing touches it.
    public static let maxMessageBytes = 1 << 20

    private struct Frame<Body: Codable>: Codable {
        var v: ProtocolVersion
        var type: String
        var body: Body
    }

    private struct Header: Decodable {
        var v: String
        var type: String
    }

    public static func encode<M: WireMessage>(_ message: M) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every message type is plain data (strings, integers, arrays, optionals) and encodes
        // without error; a failure would be a programming error in a message type's Codable.
        guard let data = try? encoder.encode(Frame(v: .current, type: M.messageType, body: message)) else { return [] }
        return Array(data)
    }

    /// The version and type of a message, read without decoding its body.
    public static func peek(_ bytes: [UInt8]) throws(ProtocolError) -> (version: ProtocolVersion, type: String) {
        guard bytes.count <= maxMessageBytes else {
            throw .malformedMessage(type: "unknown", detail: "\(bytes.count) bytes exceeds the \(maxMessageBytes)-byte limit")
        }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(bytes)) } catch {
            throw .malformedMessage(type: "unknown", detail: "no \"v\" and \"type\" fields: \(Self.describe(error))")
        }
        guard let version = ProtocolVersion(text: header.v) else {
            throw .malformedMessage(type: header.type, detail: "\"v\" is '\(header.v)', expected \"major.minor\"")
        }
        guard version.major == ProtocolVersion.current.major else {
            throw .unsupportedVersion(found: header.v, supportedMajor: ProtocolVersion.current.major)
        }
        return (version, header.type)
    }

    public static func decode<M: WireMessage>(_ type: M.Type, from bytes: [UInt8]) throws(ProtocolError) -> M {
        let (_, found) = try peek(bytes)
        guard found == M.messageType else { throw .wrongMessageType(expected: M.messageType, found: found) }
        do { return try JSONDecoder().decode(Frame<M>.self, from: Data(bytes)).body } catch let error as ProtocolError {
            throw error
        } catch {
            throw .malformedMessage(type: M.messageType, detail: Self.describe(error))
        }
    }

    /// DecodingError's default text is a debug dump; this names the field path instead.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "field \(path(context.codingPath + [key])) is missing"
        case .typeMismatch(let type, let context): return "field \(path(context.codingPath)) is not a \(type)"
        case .valueNotFound(let type, let context): return "field \(path(context.codingPath)) is null, expected \(type)"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "field \(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
