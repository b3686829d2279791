import Foundation
import Glibc

/// A private key that others can read has leaked; refusing to sign with it makes the operator
/// notice (same rule as the coordinator's signing keys, docs/keys.md).
enum KeyFilePermissions {
    static func check(_ url: URL) throws(PKIError) {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            throw .io(path: url.path, operation: "stat", detail: String(cString: strerror(errno)))
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw .invalidOption(
                name: url.path,
                detail:
                    "the private key has mode \(String(mode, radix: 8)), readable by group or others; run `chmod 600 \(url.path)` and consider the key leaked"
            )
        }
    }
}
