/// One fault to inject into part of a simulated fleet: what, into which fraction of the
/// eligible devices (those of `hardwareClass`, or all), and for which releases.
///
/// Written on the command line as `NAME[:FRACTION][:xFACTOR][:key=value,...]`, for example
/// `slow:0.1:x3`, `broken:class=arm64-dotprod,version=2`, `crash:0.05:version=3`,
/// `flapping:0.2:every=5s`, `offline:0.1:after=30s,for=20s`, `killMidDownload:0.1:at=0.5,pause=2s`.
/// Keys: `class`, `version` (a model version or release sequence; repeatable), `fraction`,
/// `factor`, `every`, `after`, `for`, `at`, `pause`.
public struct SimulatedFault: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Model runs take `factor` times as long (validation and live inference).
        case slow(factor: Double)
        /// Model outputs are perturbed deterministically: accuracy and agreement drop.
        case brokenKernels
        /// Loading the trial model fails as a crash would (ends in a crash-loop rollback).
        case crashOnLoad
        /// The connection is dropped every `every`; the client reconnects by itself.
        case flapping(every: Duration)
        /// `after` the device connected, it goes offline for `duration`, then comes back.
        case offline(after: Duration, duration: Duration)
        /// The agent is killed (no clean shutdown; the broker publishes its will) once it has
        /// stored `at` (0 < at ≤ 1) of a download's chunks; `pause` later a new agent starts on
        /// the same data directory and resumes the download from its persisted bitmap.
        case killMidDownload(at: Double, pause: Duration)
    }

    public var kind: Kind
    /// Of the eligible devices, 0...1 (1: all of them).
    public var fraction: Double
    /// Only devices of this class are eligible (nil: every class).
    public var hardwareClass: String?
    /// Model versions or release sequences the model faults apply to (empty: all).
    public var releases: Set<String>

    public init(_ kind: Kind, fraction: Double = 1, hardwareClass: String? = nil, releases: Set<String> = []) {
        self.kind = kind
        self.fraction = fraction
        self.hardwareClass = hardwareClass
        self.releases = releases
    }

    public var description: String {
        var parts: [String]
        switch kind {
        case .slow(let factor): parts = ["slow", "x\(factor.formatted)"]
        case .brokenKernels: parts = ["broken"]
        case .crashOnLoad: parts = ["crash"]
        case .flapping(let every): parts = ["flapping", "every=\(every.text)"]
        case .offline(let after, let duration): parts = ["offline", "after=\(after.text)", "for=\(duration.text)"]
        case .killMidDownload(let at, let pause): parts = ["killMidDownload", "at=\(at.formatted)", "pause=\(pause.text)"]
        }
        parts.insert(fraction.formatted, at: 1)
        if let c = hardwareClass { parts.append("class=\(c)") }
        parts += releases.sorted().map { "version=\($0)" }
        return parts.joined(separator: ":")
    }

    /// Parses the command-line form (see the type's documentation).
    public static func parse(_ text: String) throws(SimulatorError) -> SimulatedFault {
        func bad(_ detail: String) -> SimulatorError { .invalidOption(option: "--fault", value: text, detail: detail) }
        let tokens = text.split(whereSeparator: { $0 == ":" || $0 == "," }).map { String($0).trimmed }
        guard let name = tokens.first?.lowercased() else { throw bad("empty; expected e.g. slow:0.1:x3") }
        var fraction = 1.0, factor: Double?, every: Duration?, after: Duration?, duration: Duration?, at: Double?, pause: Duration?
        var hardwareClass: String?, releases: Set<String> = []
        for token in tokens.dropFirst() {
            if let f = Double(token) {
                fraction = f
            } else if token.hasPrefix("x"), let f = Double(token.dropFirst()) {
                factor = f
            } else if let eq = token.firstIndex(of: "=") {
                let key = token[..<eq].lowercased(), value = String(token[token.index(after: eq)...])
                switch key {
                case "class": hardwareClass = value
                case "version", "release": releases.insert(value)
                case "fraction":
                    guard let f = Double(value) else { throw bad("fraction must be a number in 0...1") }
                    fraction = f
                case "factor":
                    guard let f = Double(value) else { throw bad("factor must be a number ≥ 1") }
                    factor = f
                case "every": every = try Duration.parse(value, option: "--fault")
                case "after": after = try Duration.parse(value, option: "--fault")
                case "for": duration = try Duration.parse(value, option: "--fault")
                case "at":
                    guard let f = Double(value) else { throw bad("at must be the fraction of the chunks stored, in (0, 1]") }
                    at = f
                case "pause": pause = try Duration.parse(value, option: "--fault")
                default: throw bad("unknown key '\(key)'; known: class, version, fraction, factor, every, after, for, at, pause")
                }
            } else {
                throw bad("cannot read '\(token)'; expected a fraction (0.1), a factor (x3) or key=value")
            }
        }
        guard (0...1).contains(fraction) else { throw bad("the fraction must be in 0...1, not \(fraction)") }
        let kind: Kind
        switch name {
        case "slow":
            let k = factor ?? 2
            guard k >= 1, k <= 1000 else { throw bad("the slow factor must be in 1...1000, not \(k)") }
            kind = .slow(factor: k)
        case "broken", "brokenkernels": kind = .brokenKernels
        case "crash", "crashonload": kind = .crashOnLoad
        case "flapping", "flap":
            let e = every ?? .seconds(5)
            guard e >= .milliseconds(100) else { throw bad("every must be at least 100ms") }
            kind = .flapping(every: e)
        case "offline":
            kind = .offline(after: after ?? .seconds(10), duration: duration ?? .seconds(20))
        case "killmiddownload", "kill":
            let a = at ?? 0.5
            guard a > 0, a <= 1 else { throw bad("at must be in (0, 1] (the fraction of the download's chunks stored), not \(a)") }
            kind = .killMidDownload(at: a, pause: pause ?? .seconds(2))
        default:
            throw bad("unknown fault '\(name)'; known: slow, broken, crash, flapping, offline, killMidDownload")
        }
        if releases.isEmpty == false, case .flapping = kind { throw bad("network faults cannot target a release") }
        if releases.isEmpty == false, case .offline = kind { throw bad("network faults cannot target a release") }
        return SimulatedFault(kind, fraction: fraction, hardwareClass: hardwareClass, releases: releases)
    }
}

extension Duration {
    /// `500ms`, `5s`, `2m` or a plain number of seconds.
    static func parse(_ text: String, option: String) throws(SimulatorError) -> Duration {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let v = Double(text.dropLast(suffix.count)), v >= 0, v.isFinite { return .milliseconds(Int64(v * scale * 1000)) }
        }
        if let v = Double(text), v >= 0, v.isFinite { return .milliseconds(Int64(v * 1000)) }
        throw .invalidOption(option: option, value: text, detail: "expected a duration like 500ms, 5s or 2m")
    }

    var secondsValue: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }

    var text: String {
        let ms = secondsValue * 1000
        if ms < 1000 { return "\(Int(ms.rounded()))ms" }
        return "\((ms / 1000).formatted)s"
    }
}
