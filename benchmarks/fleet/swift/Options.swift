/// Command-line options: `fleet-bench MODE --key value ...`. Every mode bounds itself in time
/// (`--timeout-s`) and count.
struct Options {
    var mode: String
    var port = 0
    var work = ""
    var devices = 1000
    var artifactBytes = 5_000_000
    var timeoutSeconds = 600.0
    var connections = 50
    var rates = [500, 1000, 2000, 4000, 8000, 16000]
    var stepSeconds = 5.0
    var messages = 40_000

    static let usage = """
        usage: fleet-bench rollout-coordinator|rollout-fleet|ingest|ingest-peer|agent-memory|agent-floors --port P --work DIR
               [--devices 1000] [--artifact-bytes 5000000] [--timeout-s 600]
               [--connections 50] [--rates 500,1000,...] [--step-s 5] [--messages 40000]
        """

    init(_ arguments: [String]) throws {
        guard let mode = arguments.first else { throw BenchError(Self.usage) }
        self.mode = mode
        var i = 1
        func value() throws -> String {
            guard i + 1 < arguments.count else { throw BenchError("\(arguments[i]) needs a value\n\(Self.usage)") }
            i += 1
            return arguments[i]
        }
        func int(_ text: String, _ flag: String, _ range: ClosedRange<Int>) throws -> Int {
            guard let v = Int(text), range.contains(v) else { throw BenchError("\(flag) needs an integer in \(range), got '\(text)'") }
            return v
        }
        while i < arguments.count {
            let flag = arguments[i]
            switch flag {
            case "--port": port = try int(try value(), flag, 1...65535)
            case "--work": work = try value()
            case "--devices": devices = try int(try value(), flag, 1...100_000)
            case "--artifact-bytes": artifactBytes = try int(try value(), flag, 4096...(256 << 20))
            case "--timeout-s": timeoutSeconds = Double(try int(try value(), flag, 1...86_400))
            case "--connections": connections = try int(try value(), flag, 1...10_000)
            case "--rates": rates = try value().split(separator: ",").map { try int(String($0), flag, 1...1_000_000) }
            case "--step-s": stepSeconds = Double(try int(try value(), flag, 1...600))
            case "--messages": messages = try int(try value(), flag, 1...10_000_000)
            default: throw BenchError("unknown argument '\(flag)'\n\(Self.usage)")
            }
            i += 1
        }
        guard port != 0, !work.isEmpty else { throw BenchError("--port and --work are required\n\(Self.usage)") }
        guard !rates.isEmpty else { throw BenchError("--rates needs at least one rate") }
    }
}
