import Foundation
import TestSupport
import XCTest

enum TestData {
    /// Incompressible bytes.
    static func random(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { buffer in
            var i = 0
            while i + 8 <= count {
                buffer.storeBytes(of: generator.next(), toByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < count {
                buffer[i] = UInt8(truncatingIfNeeded: generator.next())
                i += 1
            }
        }
        return bytes
    }

    /// Compressible bytes shaped like int8 weights: small values (3 bits of entropy each) with
    /// zero runs sprinkled in, as a quantized tensor with many pruned weights. Built a word at a
    /// time so even 100 MB are quick to make in a debug build.
    static func compressible(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { buffer in
            var i = 0
            while i < count {
                let word = generator.next()
                let value = (word >> 61) == 0 ? 0 : word & 0x0707_0707_0707_0707
                if i + 8 <= count {
                    buffer.storeBytes(of: value, toByteOffset: i, as: UInt64.self)
                } else {
                    for k in 0..<(count - i) { buffer[i + k] = UInt8(truncatingIfNeeded: value >> UInt64(8 * k)) }
                }
                i += 8
            }
        }
        return bytes
    }
}

/// The real `zstd` command-line tool, for interoperability tests.
enum ZstdCLI {
    static var path: String? {
        for candidate in ["/usr/bin/zstd", "/usr/local/bin/zstd", "/bin/zstd"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return nil
    }

    static func require() throws -> String {
        guard let path else { throw XCTSkip("the zstd CLI is not installed (apt-get install zstd)") }
        return path
    }

    /// Runs the CLI on files (never pipes, so no deadlock on large outputs); returns its status
    /// and standard error.
    @discardableResult
    static func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try require())
        process.arguments = arguments
        let errorPipe = Pipe()
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let errorData = errorPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: errorData, as: UTF8.self))
    }
}
