extension LabelSelector {
    /// Parses the Kubernetes selector syntax (see the type's documentation). Whitespace around
    /// terms, keys, operators and values is ignored.
    public init(parsing text: String) throws(LabelSelectorError) {
        var requirements: [Requirement] = []
        for term in try Self.splitTerms(text) {
            requirements.append(try Self.parseRequirement(term))
        }
        self.init(requirements: requirements)
    }

    /// Splits at commas outside parentheses; an all-blank selector has no terms.
    static func splitTerms(_ text: String) throws(LabelSelectorError) -> [String] {
        guard !text.allSatisfy(\.isWhitespace) else { return [] }
        var terms: [String] = []
        var current = ""
        var depth = 0
        for ch in text {
            switch ch {
            case "(":
                depth += 1
                guard depth == 1 else { throw LabelSelectorError(term: current + "(", detail: "nested '(' is not allowed") }
                current.append(ch)
            case ")":
                depth -= 1
                guard depth == 0 else { throw LabelSelectorError(term: current + ")", detail: "')' without a matching '('") }
                current.append(ch)
            case "," where depth == 0:
                terms.append(current)
                current = ""
            default:
                current.append(ch)
            }
        }
        guard depth == 0 else { throw LabelSelectorError(term: current, detail: "'(' is never closed; write e.g. 'site in (a,b)'") }
        terms.append(current)
        return try terms.map { (raw: String) throws(LabelSelectorError) -> String in
            let term = raw.trimmingWhitespace
            guard !term.isEmpty else {
                throw LabelSelectorError(term: text, detail: "empty requirement (a leading, trailing or doubled ',')")
            }
            return term
        }
    }

    static func parseRequirement(_ term: String) throws(LabelSelectorError) -> Requirement {
        if term.hasPrefix("!") && !term.hasPrefix("!=") {
            let key = String(term.dropFirst()).trimmingWhitespace
            try LabelSyntax.checkKey(key, term: term)
            return .doesNotExist(key: key)
        }
        // The key runs up to whitespace or an operator character.
        let keyEnd = term.firstIndex { $0.isWhitespace || "=!()<>".contains($0) } ?? term.endIndex
        let key = String(term[..<keyEnd])
        guard !key.isEmpty else { throw LabelSelectorError(term: term, detail: "missing label key before the operator") }
        try LabelSyntax.checkKey(key, term: term)
        let rest = term[keyEnd...].trimmingWhitespace
        if rest.isEmpty { return .exists(key: key) }
        for (symbol, equal) in [("==", true), ("!=", false), ("=", true)] where rest.hasPrefix(symbol) {
            let value = String(rest.dropFirst(symbol.count)).trimmingWhitespace
            try LabelSyntax.checkValue(value, term: term)
            return equal ? .equals(key: key, value: value) : .notEquals(key: key, value: value)
        }
        for (word, include) in [("notin", false), ("in", true)] where rest.hasPrefix(word) {
            let afterWord = rest.dropFirst(word.count)
            guard let next = afterWord.first, next.isWhitespace || next == "(" else { continue }
            let values = try parseSet(afterWord.trimmingWhitespace, term: term)
            return include ? .in(key: key, values: values) : .notIn(key: key, values: values)
        }
        throw LabelSelectorError(
            term: term, detail: "unknown operator after '\(key)'; use =, ==, !=, in (a,b), notin (a,b), or the bare key")
    }

    static func parseSet(_ text: String, term: String) throws(LabelSelectorError) -> Set<String> {
        guard text.hasPrefix("("), text.hasSuffix(")"), text.count >= 2 else {
            throw LabelSelectorError(term: term, detail: "a set is written in parentheses, e.g. 'site in (lab,field)'")
        }
        let inner = text.dropFirst().dropLast()
        var values: Set<String> = []
        for raw in inner.split(separator: ",", omittingEmptySubsequences: false) {
            let value = raw.trimmingWhitespace
            guard !value.isEmpty else { throw LabelSelectorError(term: term, detail: "empty value in the set") }
            try LabelSyntax.checkValue(value, term: term)
            values.insert(value)
        }
        return values
    }
}

extension StringProtocol {
    var trimmingWhitespace: String {
        let scalars = Substring(self).drop(while: \.isWhitespace)
        var end = scalars.endIndex
        while end > scalars.startIndex, scalars[scalars.index(before: end)].isWhitespace { end = scalars.index(before: end) }
        return String(scalars[..<end])
    }
}
