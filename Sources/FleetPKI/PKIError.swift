public import Foundation

/// What went wrong while creating or using the fleet's PKI or a device bundle. Every case names
/// the file, directory or identity concerned and says how to fix it.
public enum PKIError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file the command would create exists already; keys and certificates are never
    /// overwritten silently.
    case alreadyExists(path: String, hint: String)
    /// The CA directory holds no usable CA.
    case missingCA(directory: String, detail: String)
    /// A name (device id, hardware class, server name) cannot be used.
    case invalidName(name: String, what: String, reason: String)
    /// A file could not be read, written or created.
    case io(path: String, operation: String, detail: String)
    /// A PEM file does not hold what it should.
    case invalidPEM(path: String, detail: String)
    /// The X.509 library refused to build or serialize a certificate.
    case certificate(subject: String, detail: String)
    /// An option value is out of range.
    case invalidOption(name: String, detail: String)
    /// The ACL file already grants this identity something else.
    case aclConflict(path: String, user: String, detail: String)
    /// An external tool (tar) failed.
    case toolFailed(tool: String, detail: String)
    /// The certificate with this serial is on the CA's revocation list already.
    case alreadyRevoked(serial: String, since: Date)

    public var description: String {
        switch self {
        case .alreadyExists(let path, let hint):
            return "\(path) already exists; refusing to overwrite it. \(hint)"
        case .missingCA(let directory, let detail):
            return
                "no fleet CA in \(directory): \(detail); create one with `flotilla ca init --dir \(directory)` or pass the right --ca-dir"
        case .invalidName(let name, let what, let reason):
            return "\(what) \(name.debugDescription) cannot be used: \(reason)"
        case .io(let path, let operation, let detail):
            return "cannot \(operation) \(path): \(detail)"
        case .invalidPEM(let path, let detail):
            return "\(path) is not a usable PEM file: \(detail)"
        case .certificate(let subject, let detail):
            return "cannot make the certificate for \(subject.debugDescription): \(detail)"
        case .invalidOption(let name, let detail):
            return "\(name): \(detail)"
        case .aclConflict(let path, let user, let detail):
            return "\(path) already has an entry for \(user.debugDescription): \(detail)"
        case .toolFailed(let tool, let detail):
            return "\(tool) failed: \(detail)"
        case .alreadyRevoked(let serial, let since):
            return
                "certificate \(serial) was revoked already on \(since.formatted(.iso8601)); nothing to do (re-sign the CRL with `flotilla ca crl` if it is about to expire)"
        }
    }
}
