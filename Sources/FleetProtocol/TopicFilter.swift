/// MQTT topic and filter rules (MQTT 5 §4.7), shared by the in-memory broker and checks on
/// what peers publish.
public struct TopicFilter: Sendable, Hashable {
    public let filter: String
    /// The `{group}` of a `$share/{group}/{filter}` subscription.
    public let shareGroup: String?
    private let levels: [Substring]

    public init(_ text: String) throws(TransportError) {
        var rest = Substring(text)
        var group: String?
        if text.hasPrefix("$share/") {
            let parts = text.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[1].isEmpty, !parts[1].contains("+"), !parts[1].contains("#"), !parts[2].isEmpty else {
                throw .invalidFilter(filter: text, reason: "a shared subscription is $share/{group}/{filter}")
            }
            group = String(parts[1])
            rest = parts[2]
        }
        guard !rest.isEmpty, rest.utf8.count <= 65535, !rest.contains("\0") else {
            throw .invalidFilter(filter: text, reason: "a filter is 1…65535 bytes without NUL")
        }
        let levels = rest.split(separator: "/", omittingEmptySubsequences: false)
        for (i, level) in levels.enumerated() {
            if level.contains("#"), level != "#" || i != levels.count - 1 {
                throw .invalidFilter(filter: text, reason: "'#' must be a whole level and the last one")
            }
            if level.contains("+"), level != "+" {
                throw .invalidFilter(filter: text, reason: "'+' must be a whole level")
            }
        }
        filter = String(rest)
        shareGroup = group
        self.levels = levels
    }

    /// Whether a concrete topic matches. Wildcards at the first level do not match topics
    /// starting with `$` (broker-internal topics).
    public func matches(_ topic: String) -> Bool {
        let t = topic.split(separator: "/", omittingEmptySubsequences: false)
        if topic.hasPrefix("$"), let first = levels.first, first == "+" || first == "#" { return false }
        var i = 0
        while i < levels.count {
            if levels[i] == "#" { return true }
            guard i < t.count else { return false }
            if levels[i] != "+", levels[i] != t[i] { return false }
            i += 1
        }
        return i == t.count
    }

    /// A topic one may publish to: non-empty, no wildcards, no NUL.
    public static func validatePublishTopic(_ topic: String) throws(TransportError) {
        guard !topic.isEmpty, topic.utf8.count <= 65535 else { throw .invalidTopic(topic: topic, reason: "a topic is 1…65535 bytes") }
        guard !topic.contains("+"), !topic.contains("#"), !topic.contains("\0") else {
            throw .invalidTopic(topic: topic, reason: "a topic name holds no wildcards ('+', '#') and no NUL")
        }
    }
}
