import Foundation

/// Maps a bearer token to its operator. Every configured token is compared in full, in time
/// that depends only on the lengths involved, so response timing tells an attacker neither
/// how much of a token matched nor which operator's token came closest.
struct APIAuthenticator: Sendable {
    private let entries: [(name: String, token: [UInt8])]

    init(tokens: [String: String]) {
        entries = tokens.sorted { $0.key < $1.key }.map { ($0.key, Array($0.value.utf8)) }
    }

    var isEmpty: Bool { entries.isEmpty }

    /// The operator whose token the `Authorization` header carries, or nil.
    func authenticate(authorizationHeader: String?) -> String? {
        guard let header = authorizationHeader else { return nil }
        let scheme = "bearer "
        guard header.count > scheme.count, header.prefix(scheme.count).lowercased() == scheme else { return nil }
        let presented = Array(header.dropFirst(scheme.count).trimmingCharacters(in: .whitespaces).utf8)
        guard !presented.isEmpty else { return nil }
        var match: String?
        for entry in entries where Self.constantTimeEqual(presented, entry.token) && match == nil {
            match = entry.name
        }
        return match
    }

    /// Compares every byte of the longer input; the length difference is folded into the result
    /// instead of returning early.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt64(truncatingIfNeeded: a.count ^ b.count)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= UInt64(x ^ y)
        }
        return difference == 0
    }
}
