/// Kubernetes label syntax, shared by the selector parser and `setLabels`:
/// a key is `[prefix/]name`, the name 1–63 characters of `[A-Za-z0-9._-]` starting and ending
/// alphanumeric, the prefix a lowercase DNS subdomain of at most 253 characters; a value is
/// empty or follows the name rule.
public enum LabelSyntax {
    public static func checkKey(_ key: String, term: String) throws(LabelSelectorError) {
        guard !key.isEmpty else { throw LabelSelectorError(term: term, detail: "empty label key") }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw LabelSelectorError(term: term, detail: "key '\(key)' has more than one '/'") }
        if parts.count == 2 {
            let prefix = parts[0]
            guard !prefix.isEmpty, prefix.count <= 253,
                prefix.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isDNSLabel)
            else {
                throw LabelSelectorError(term: term, detail: "key prefix '\(prefix)' is not a lowercase DNS subdomain (e.g. 'example.com')")
            }
        }
        guard let name = parts.last, isName(name) else {
            throw LabelSelectorError(
                term: term,
                detail:
                    "key '\(key)' must be 1–63 characters of letters, digits, '-', '_' or '.', beginning and ending with a letter or digit")
        }
    }

    public static func checkValue(_ value: String, term: String) throws(LabelSelectorError) {
        guard value.isEmpty || isName(Substring(value)) else {
            throw LabelSelectorError(
                term: term,
                detail:
                    "value '\(value)' must be empty or 1–63 characters of letters, digits, '-', '_' or '.', beginning and ending with a letter or digit"
            )
        }
    }

    static func isName(_ s: Substring) -> Bool {
        guard (1...63).contains(s.utf8.count), let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return false }
        return isAlnum(first) && isAlnum(last) && s.unicodeScalars.allSatisfy { isAlnum($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    static func isDNSLabel(_ s: Substring) -> Bool {
        guard (1...63).contains(s.utf8.count), let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return false }
        let lowerAlnum: (Unicode.Scalar) -> Bool = { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        return lowerAlnum(first) && lowerAlnum(last) && s.unicodeScalars.allSatisfy { lowerAlnum($0) || $0 == "-" }
    }

    static func isAlnum(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
    }
}
