import Foundation

/// Every endpoint, parsed from method and path. Path segments are percent-decoded, so model
/// names and versions may hold any character their validation allows.
enum APIRoute: Equatable, Sendable {
    case dashboard
    case health
    case metrics
    case listDevices
    case getDevice(String)
    case updateLabels(String)
    case upload
    case addRelease
    case listReleases
    case getRelease(name: String, version: String)
    case startRollout
    case listRollouts
    case getRollout(String)
    case controlRollout(id: String, verb: String)
    case telemetry
    case audit
    case keys

    /// Whether the route answers without a token (`/metrics` is decided by the config).
    var isPublic: Bool {
        switch self {
        case .dashboard, .health: true
        default: false
        }
    }

    static let controlVerbs: Set<String> = ["pause", "resume", "abort", "rollback"]

    /// The route, or 404 for an unknown path and 405 (naming the allowed methods) for a known
    /// path asked with the wrong method.
    static func match(method: String, path: String) throws(APIError) -> APIRoute {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        let candidates = routes(for: segments)
        guard !candidates.isEmpty else {
            throw APIError(.notFound, "no endpoint at '\(path)'; the API lives under /v1 (see docs/api.md)")
        }
        let verb = method.uppercased() == "HEAD" ? "GET" : method.uppercased()
        if let route = candidates[verb] { return route }
        throw APIError(
            .methodNotAllowed, "\(method) is not allowed on '\(path)'; use \(candidates.keys.sorted().joined(separator: " or "))")
    }

    /// Method → route for one path.
    private static func routes(for s: [String]) -> [String: APIRoute] {
        switch s.count {
        case 0: return ["GET": .dashboard]
        case 1:
            switch s[0] {
            case "healthz": return ["GET": .health]
            case "metrics": return ["GET": .metrics]
            case "index.html": return ["GET": .dashboard]
            default: return [:]
            }
        default: break
        }
        guard s[0] == "v1" else { return [:] }
        let rest = Array(s.dropFirst())
        switch (rest.count, rest.first ?? "") {
        case (1, "devices"): return ["GET": .listDevices]
        case (2, "devices"): return ["GET": .getDevice(rest[1])]
        case (3, "devices") where rest[2] == "labels": return ["PATCH": .updateLabels(rest[1]), "POST": .updateLabels(rest[1])]
        case (1, "uploads"): return ["POST": .upload]
        case (1, "releases"): return ["GET": .listReleases, "POST": .addRelease]
        case (3, "releases"): return ["GET": .getRelease(name: rest[1], version: rest[2])]
        case (1, "rollouts"): return ["GET": .listRollouts, "POST": .startRollout]
        case (2, "rollouts"): return ["GET": .getRollout(rest[1])]
        case (3, "rollouts") where controlVerbs.contains(rest[2]):
            return ["POST": .controlRollout(id: rest[1], verb: rest[2])]
        case (1, "telemetry"): return ["GET": .telemetry]
        case (1, "audit"): return ["GET": .audit]
        case (1, "keys"): return ["GET": .keys]
        default: return [:]
        }
    }
}
