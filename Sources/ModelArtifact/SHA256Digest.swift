internal import Crypto

/// SHA-256 as plain bytes, the one place the module turns Crypto's digest type into `[UInt8]`.
enum SHA256Digest {
    static func of(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
    static func of(_ bytes: UnsafeRawBufferPointer) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
}
