import FlyingFox
import Foundation

/// Reads a request's body at most once, within a byte cap. FlyingFox streams bodies larger than
/// its replay buffer straight from the socket, so a body must never be iterated twice; this
/// object remembers how far it got, and `drain()` discards what is left when an error answers
/// early, so the connection stays usable.
final class APIBodyReader {
    private let request: HTTPRequest
    private var iterator: HTTPBodySequence.Iterator?
    private var started = false
    private var finished = false

    /// Unread bodies up to this size are discarded to keep the connection; larger ones make
    /// the response ask the client to close.
    static let drainLimit = 16 << 20

    init(_ request: HTTPRequest) { self.request = request }

    /// The declared length, or nil for a chunked body.
    var declaredLength: Int? {
        request.headers[.contentLength].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    private func next() async throws -> Data? {
        if iterator == nil {
            guard !started else { return nil }
            started = true
            iterator = request.bodySequence.makeAsyncIterator()
        }
        guard let chunk = try await iterator?.next() else {
            finished = true
            iterator = nil
            return nil
        }
        return chunk
    }

    /// The whole body, refusing (413) more than `limit` bytes before reading any when the length
    /// is declared, or as soon as the count passes it.
    func readAll(limit: Int, what: String) async throws -> Data {
        if let declared = declaredLength, declared > limit { throw Self.tooLarge(declared, limit: limit, what: what) }
        var data = Data()
        while let chunk = try await next() {
            data.append(chunk)
            if data.count > limit { throw Self.tooLarge(data.count, limit: limit, what: what) }
        }
        return data
    }

    /// Streams the body into `handle` in the chunks the socket delivers; returns the byte count.
    func stream(to handle: FileHandle, limit: Int, what: String) async throws -> Int {
        if let declared = declaredLength, declared > limit { throw Self.tooLarge(declared, limit: limit, what: what) }
        var total = 0
        while let chunk = try await next() {
            total += chunk.count
            if total > limit { throw Self.tooLarge(total, limit: limit, what: what) }
            try handle.write(contentsOf: chunk)
        }
        return total
    }

    /// Discards the unread rest of the body; false when it was too large to discard (or the
    /// socket failed), in which case the connection should close.
    func drain() async -> Bool {
        if finished { return true }
        if !started, request.bodySequence.count == 0 { return true }
        let remaining = declaredLength.map { $0 } ?? Int.max
        if !started, remaining > Self.drainLimit { return false }
        var discarded = 0
        do {
            while let chunk = try await next() {
                discarded += chunk.count
                if discarded > Self.drainLimit { return false }
            }
        } catch {
            return false
        }
        return true
    }

    static func tooLarge(_ size: Int, limit: Int, what: String) -> APIError {
        APIError(
            .payloadTooLarge,
            "the \(what) has at least \(size) bytes, more than the limit of \(limit) bytes; "
                + "send less, or raise the coordinator's limit")
    }
}
