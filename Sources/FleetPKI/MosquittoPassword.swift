import Crypto
import Foundation

/// A password for devices that cannot hold a certificate, and its line for Mosquitto 2's
/// password file (`password_file`), computed here so provisioning needs no `mosquitto_passwd`.
///
/// The line format is Mosquitto 2's `$7$`: `user:$7$<iterations>$<salt b64>$<hash b64>` with
/// PBKDF2-HMAC-SHA512, a 12-byte salt and a 64-byte hash. The broker reads the iteration count
/// from the line; `mosquitto_passwd` writes 101, we write more, so a stolen password file costs
/// more to brute-force (the broker pays it once per connect).
public struct MosquittoPassword: Sendable {
    public static let iterations = 20_000

    public let username: String
    /// The password, handed to the device only (its `passwordFile`).
    public let password: String
    /// The broker's password-file line (no trailing newline).
    public let passwordFileLine: String

    /// A new random password for `username`: 24 random bytes, URL-safe base64 (32 characters).
    public static func generate(for username: String) -> MosquittoPassword {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let password = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let salt = (0..<12).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return MosquittoPassword(username: username, password: password, salt: salt, iterations: iterations)
    }

    /// The line for a known password and salt (tests compare with `mosquitto_passwd`).
    public init(username: String, password: String, salt: [UInt8], iterations: Int) {
        self.username = username
        self.password = password
        let hash = Self.pbkdf2SHA512(password: Array(password.utf8), salt: salt, iterations: iterations, length: 64)
        self.passwordFileLine = "\(username):$7$\(iterations)$\(Data(salt).base64EncodedString())$\(Data(hash).base64EncodedString())"
    }

    /// PBKDF2 (RFC 8018) with HMAC-SHA512.
    static func pbkdf2SHA512(password: [UInt8], salt: [UInt8], iterations: Int, length: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var output: [UInt8] = []
        var block: UInt32 = 1
        while output.count < length {
            var u = Array(HMAC<SHA512>.authenticationCode(for: salt + withUnsafeBytes(of: block.bigEndian) { Array($0) }, using: key))
            var t = u
            for _ in 1..<max(1, iterations) {
                u = Array(HMAC<SHA512>.authenticationCode(for: u, using: key))
                for i in 0..<t.count { t[i] ^= u[i] }
            }
            output += t
            block += 1
        }
        return Array(output.prefix(length))
    }
}
