/// Why the signing keyring could not be opened or changed; each names the file and the fix.
public enum KeyringError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A private key file other users could read (or that another user owns).
    case insecurePermissions(path: String, mode: Int, detail: String)
    case unreadable(path: String, detail: String)
    case corrupt(path: String, detail: String)
    case unknownKey(keyID: String, known: [String])
    case activeKeyCannotBeRemoved(keyID: String)
    case io(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .insecurePermissions(let path, let mode, let detail):
            return "private key '\(path)' has mode \(String(mode, radix: 8)): \(detail)"
        case .unreadable(let path, let detail): return "cannot read '\(path)': \(detail)"
        case .corrupt(let path, let detail):
            return "'\(path)' is not a valid keyring file: \(detail); restore it from a backup"
        case .unknownKey(let keyID, let known): return "no key '\(keyID)' in the keyring (keys: \(known.joined(separator: ", ")))"
        case .activeKeyCannotBeRemoved(let keyID):
            return "key \(keyID) is the active or the prepared next signing key; rotate first, then remove it once no device needs it"
        case .io(let path, let operation, let errno): return "cannot \(operation) '\(path)' (errno \(errno))"
        }
    }
}
