public import Foundation
public import Runtime

/// The hardware classes a coordinator knows: the built-in profiles shipped in
/// deploy/hardware-classes plus any directories of the user's own. Names are unique across
/// all of them (a user profile cannot silently shadow a built-in one).
public struct HardwareClassRegistry: Sendable {
    /// Environment variable naming the built-in profile directory explicitly.
    public static let directoryEnvironmentKey = "FLOTILLA_HARDWARE_CLASSES"

    public private(set) var classes: [HardwareClass] = []
    /// Where each class came from, by name (for error messages and reports).
    public private(set) var sources: [String: String] = [:]

    public init() {}

    /// The built-in classes, from `builtInDirectory()`, plus `userDirectories`.
    public static func standard(userDirectories: [URL] = []) throws -> HardwareClassRegistry {
        var r = HardwareClassRegistry()
        try r.loadDirectory(try builtInDirectory())
        for d in userDirectories { try r.loadDirectory(d) }
        return r
    }

    public func named(_ name: String) -> HardwareClass? { classes.first { $0.name == name } }

    /// Adds one validated class; throws if the name is taken.
    public mutating func add(_ c: HardwareClass, source: String) throws {
        if let existing = sources[c.name] {
            throw QuantizerError.duplicateProfile(name: c.name, files: [existing, source])
        }
        classes.append(c)
        sources[c.name] = source
    }

    /// Loads every `*.json` in `directory` (not recursive), in name order.
    public mutating func loadDirectory(_ directory: URL) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw QuantizerError.profileDirectory(path: directory.path, detail: "does not exist or is not a directory")
        }
        let names: [String]
        do {
            names = try fm.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        } catch {
            throw QuantizerError.profileDirectory(path: directory.path, detail: "cannot be listed: \(error.localizedDescription)")
        }
        for name in names {
            let url = directory.appendingPathComponent(name)
            let data: Data
            do {
                data = try Data(contentsOf: url)
            } catch {
                throw QuantizerError.invalidProfile(file: url.path, key: "", detail: "cannot be read: \(error.localizedDescription)")
            }
            try add(try HardwareClass(json: data, file: url.path), source: url.path)
        }
    }

    /// The best class a CPU can run: every required feature present, the architecture
    /// matching; among those the fastest kernel path, then per-channel over per-tensor
    /// weights (better accuracy), 8-bit over 7-bit weights, then the name (deterministic).
    public func detect(features: CPUFeatures, architecture: HardwareClass.Architecture = .current) throws -> HardwareClass {
        let have = Set(features.names)
        let fitting = classes.filter { c in
            c.requiredFeatures.isSubset(of: have) && (c.architecture == .any || c.architecture == architecture)
        }
        let best = fitting.min { a, b in
            if a.kernelPath.rank != b.kernelPath.rank { return a.kernelPath.rank > b.kernelPath.rank }
            if a.weightGranularity != b.weightGranularity { return a.weightGranularity == .perChannel }
            if a.weightBits != b.weightBits { return a.weightBits > b.weightBits }
            return a.name < b.name
        }
        guard let best else {
            let known = classes.map { "\($0.name) (\($0.architecture.rawValue): \($0.requiredFeatures.sorted().joined(separator: " ")))" }
            throw QuantizerError.noMatchingClass(
                features: features.names.joined(separator: " "),
                detail:
                    "known classes: \(known.joined(separator: "; ")); add a profile this CPU can run (an 'any'/reference class fits all)")
        }
        return best
    }

    /// The directory holding the built-in profiles, found at run time in this order:
    /// `$FLOTILLA_HARDWARE_CLASSES`; `hardware-classes` or `../share/flotilla/hardware-classes`
    /// beside the executable (installed layout); the nearest `deploy/hardware-classes` above the
    /// executable (a build tree, e.g. `.build/debug`). The profiles stay data files so an
    /// operator can read and diff them; nothing is compiled in.
    public static func builtInDirectory(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executable: URL = URL(fileURLWithPath: CommandLine.arguments.first ?? ".")
    ) throws -> URL {
        let fm = FileManager.default
        func isDirectory(_ u: URL) -> Bool {
            var d: ObjCBool = false
            return fm.fileExists(atPath: u.path, isDirectory: &d) && d.boolValue
        }
        if let explicit = environment[directoryEnvironmentKey], !explicit.isEmpty {
            let u = URL(fileURLWithPath: explicit)
            guard isDirectory(u) else {
                throw QuantizerError.profileDirectory(path: explicit, detail: "named by \(directoryEnvironmentKey) but not a directory")
            }
            return u
        }
        let exeDir = executable.resolvingSymlinksInPath().deletingLastPathComponent()
        var tried: [String] = []
        for candidate in [
            exeDir.appendingPathComponent("hardware-classes"),
            exeDir.deletingLastPathComponent().appendingPathComponent("share/flotilla/hardware-classes"),
        ] {
            tried.append(candidate.path)
            if isDirectory(candidate) { return candidate }
        }
        var dir = exeDir
        while dir.path != "/" && !dir.path.isEmpty {
            let candidate = dir.appendingPathComponent("deploy/hardware-classes")
            if isDirectory(candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        tried.append("deploy/hardware-classes above \(exeDir.path)")
        throw QuantizerError.profileDirectory(
            path: tried.joined(separator: ", "),
            detail: "no built-in profiles found; set \(directoryEnvironmentKey) to the deploy/hardware-classes directory")
    }
}

extension HardwareClass.Architecture {
    /// The architecture this process was compiled for.
    public static var current: HardwareClass.Architecture {
        #if arch(x86_64)
            return .x86_64
        #elseif arch(arm64)
            return .arm64
        #else
            return .any
        #endif
    }
}
