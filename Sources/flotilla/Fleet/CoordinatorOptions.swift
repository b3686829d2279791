import ArgumentParser
import Coordinator
import Foundation

/// `--coordinator URL` and `--token-file F`, shared by every fleet command.
struct CoordinatorOptions: ParsableArguments {
    @Option(
        name: .customLong("coordinator"),
        help: ArgumentHelp("Coordinator API base URL (env FLOTILLA_COORDINATOR; default http://127.0.0.1:8480).", valueName: "URL"))
    var coordinator: String?

    @Option(
        name: .customLong("token-file"),
        help: ArgumentHelp("File holding your operator token (or set FLOTILLA_TOKEN to the token itself).", valueName: "FILE"))
    var tokenFile: String?

    func client() throws -> CoordinatorClient {
        let env = ProcessInfo.processInfo.environment
        let text = coordinator ?? env["FLOTILLA_COORDINATOR"] ?? "http://127.0.0.1:8480"
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw CLIError("--coordinator '\(text)' is not an http(s) URL; give one like http://127.0.0.1:8480")
        }
        let token: String
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else {
                throw CLIError("--token-file '\(tokenFile)' cannot be read; check the path and its permissions")
            }
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let value = env["FLOTILLA_TOKEN"] {
            token = value.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            throw CLIError("no operator token: pass --token-file FILE or set FLOTILLA_TOKEN")
        }
        guard !token.isEmpty else { throw CLIError("the operator token is empty; check --token-file or FLOTILLA_TOKEN") }
        return CoordinatorClient(baseURL: url, token: token)
    }
}

/// Runs an API call, turning client errors into the CLI's error (the server's message kept).
func apiCall<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let error as CoordinatorClientError { throw CLIError(error.description) }
}

/// Prints an API answer as pretty JSON (for `--json`).
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Durations like `90`, `30s`, `10m`, `1h`, `1h30m` → seconds.
enum DurationText {
    static func seconds(_ text: String, option: String) throws -> Double {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let plain = Double(text), plain >= 0 { return plain }
        var total = 0.0
        var number = ""
        for c in text {
            if c.isNumber || c == "." {
                number.append(c)
            } else if let unit = units[c], let value = Double(number) {
                total += value * unit
                number = ""
            } else {
                throw ValidationError("\(option) '\(text)' is not a duration; write it like 30s, 10m, 1h or 1h30m")
            }
        }
        guard number.isEmpty, !text.isEmpty else {
            throw ValidationError("\(option) '\(text)' is not a duration; write it like 30s, 10m, 1h or 1h30m")
        }
        return total
    }
}
