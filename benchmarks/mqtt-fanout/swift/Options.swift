import Foundation

/// Command-line options; the same flags as the C peer (benchmarks/mqtt-fanout/c/fanout.c).
struct Options: Sendable {
    var host = "127.0.0.1"
    var port = 0
    var subscribers = 0
    var chunks = 16
    var chunkBytes = 256 * 1024
    var timeoutSeconds = 300
    var topic = "bench/chunk"
    /// "handler": messages reach a callback on the event loop (what a simulated fleet uses);
    /// "stream": each subscriber drains `MQTTClient.messages` in its own task.
    var api = "handler"

    static let usage = """
        usage: mqtt-fanout --port P --subscribers N [--host H] [--chunks 16] [--chunk-bytes 262144]
                           [--timeout-s 300] [--topic bench/chunk] [--api handler|stream]
        """

    /// A subscriber's received indices live in one UInt64 bit mask.
    static let maximumChunks = 64

    init(arguments: [String]) throws(BenchmarkError) {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else {
                throw BenchmarkError("\(flag) needs a value\n\(Self.usage)")
            }
            switch flag {
            case "--host": host = value
            case "--port": port = try Self.integer(flag, value, 1...65535)
            case "--subscribers": subscribers = try Self.integer(flag, value, 1...100_000)
            case "--chunks": chunks = try Self.integer(flag, value, 1...Self.maximumChunks)
            case "--chunk-bytes": chunkBytes = try Self.integer(flag, value, 4...(64 << 20))
            case "--timeout-s": timeoutSeconds = try Self.integer(flag, value, 1...86_400)
            case "--topic": topic = value
            case "--api":
                guard value == "handler" || value == "stream" else { throw BenchmarkError("--api is handler or stream, got '\(value)'") }
                api = value
            default: throw BenchmarkError("unknown argument '\(flag)'\n\(Self.usage)")
            }
        }
        guard port != 0, subscribers != 0 else {
            throw BenchmarkError("--port and --subscribers are required\n\(Self.usage)")
        }
    }

    private static func integer(_ flag: String, _ value: String, _ range: ClosedRange<Int>) throws(BenchmarkError) -> Int {
        guard let v = Int(value), range.contains(v) else {
            throw BenchmarkError("\(flag) needs an integer in \(range.lowerBound)...\(range.upperBound), got '\(value)'")
        }
        return v
    }
}

/// Why a run failed: printed to stderr, exit status 1 (2 for bad arguments).
struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
