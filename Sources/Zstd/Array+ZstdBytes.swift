extension Array where Element == UInt8 {
    /// `withUnsafeBytes` keeping the typed error: the standard one only `rethrows`, which
    /// erases `ZstdError` to `any Error`.
    func withZstdBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZstdError) -> R) throws(ZstdError) -> R {
        let result: Result<R, ZstdError> = withUnsafeBytes { bytes in
            Result { () throws(ZstdError) in try body(bytes) }
        }
        return try result.get()
    }
}
