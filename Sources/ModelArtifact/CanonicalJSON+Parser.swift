/// A strict JSON parser for untrusted section bytes: bounded nesting, no floating-point numbers
/// (the format writes floats as strings), no duplicate keys, valid UTF-8 only, integers that fit
/// 64 bits. Errors carry the byte offset within the section.
struct JSONParser {
    private let bytes: UnsafeRawBufferPointer
    private let section: String
    private var offset = 0

    static func parse(_ bytes: UnsafeRawBufferPointer, section: String) throws(ArtifactError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, section: section)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.offset == bytes.count else { throw parser.fail("unexpected bytes after the top-level value") }
        return value
    }

    private init(bytes: UnsafeRawBufferPointer, section: String) {
        self.bytes = bytes
        self.section = section
    }

    private func fail(_ detail: String) -> ArtifactError {
        .malformedJSON(section: section, offset: offset, detail: detail)
    }

    private var peek: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    private mutating func skipWhitespace() {
        while let c = peek, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { offset += 1 }
    }

    private mutating func expect(_ literal: String) throws(ArtifactError) {
        for c in literal.utf8 {
            guard peek == c else { throw fail("expected '\(literal)'") }
            offset += 1
        }
    }

    private mutating func value(depth: Int) throws(ArtifactError) -> JSONValue {
        guard depth < ArtifactFormat.maxJSONDepth else {
            throw fail("nesting deeper than \(ArtifactFormat.maxJSONDepth) levels")
        }
        guard let c = peek else { throw fail("unexpected end of data") }
        switch c {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expect("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected byte 0x\(Hex.string([c]))")
        }
    }

    private mutating func object(depth: Int) throws(ArtifactError) -> JSONValue {
        offset += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            offset += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let keyOffset = offset
            let key = try string()
            skipWhitespace()
            try expect(":")
            skipWhitespace()
            let v = try value(depth: depth + 1)
            guard members.updateValue(v, forKey: key) == nil else {
                offset = keyOffset
                throw fail("duplicate key \"\(key)\"")
            }
            skipWhitespace()
            if peek == UInt8(ascii: ",") {
                offset += 1
                continue
            }
            try expect("}")
            return .object(members)
        }
    }

    private mutating func array(depth: Int) throws(ArtifactError) -> JSONValue {
        offset += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            offset += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            if peek == UInt8(ascii: ",") {
                offset += 1
                continue
            }
            try expect("]")
            return .array(items)
        }
    }

    private mutating func number() throws(ArtifactError) -> JSONValue {
        let start = offset
        let negative = peek == UInt8(ascii: "-")
        if negative { offset += 1 }
        let digitsStart = offset
        while let c = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) { offset += 1 }
        let digits = offset - digitsStart
        guard digits > 0 else { throw fail("a number without digits") }
        if let c = peek, c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            throw fail("a number with a fraction or exponent; this format writes floating-point values as strings")
        }
        guard digits == 1 || bytes[digitsStart] != UInt8(ascii: "0") else { throw fail("a number with a leading zero") }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        if negative {
            guard let v = Int64(text) else { throw fail("integer \(text) does not fit in 64 bits") }
            return .int(v)
        }
        guard let v = UInt64(text) else { throw fail("integer \(text) does not fit in 64 bits") }
        return .unsigned(v)
    }

    private mutating func string() throws(ArtifactError) -> String {
        offset += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw fail("unterminated string") }
            offset += 1
            switch c {
            case UInt8(ascii: "\""):
                guard let s = String(validating: out, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
                return s
            case UInt8(ascii: "\\"):
                try escape(into: &out)
            case 0..<0x20:
                throw fail("unescaped control character in a string")
            default:
                out.append(c)
            }
        }
    }

    private mutating func escape(into out: inout [UInt8]) throws(ArtifactError) {
        guard let e = peek else { throw fail("unterminated escape") }
        offset += 1
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F, UInt8(ascii: "b"): 0x08,
            UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
        ]
        if let byte = simple[e] {
            out.append(byte)
            return
        }
        guard e == UInt8(ascii: "u") else { throw fail("unknown escape \\\(Character(Unicode.Scalar(e)))") }
        var scalar = try hex4()
        if (0xD800..<0xDC00).contains(scalar) {
            try expect("\\u")
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired UTF-16 surrogate") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let u = Unicode.Scalar(scalar) else { throw fail("escape names no Unicode scalar") }
        out.append(contentsOf: Array(String(Character(u)).utf8))
    }

    private mutating func hex4() throws(ArtifactError) -> UInt32 {
        guard offset <= bytes.count - 4 else { throw fail("truncated \\u escape") }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 4)]), as: UTF8.self)
        guard let v = UInt32(text, radix: 16), text.utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") }) else {
            throw fail("bad \\u escape")
        }
        offset += 4
        return v
    }
}
