/// The bytes behind a constant tensor: either an array the tensor owns, or a region of memory
/// owned by someone else (an mmap'd device artifact) kept alive by `owner`.
///
/// The borrowed form lets the artifact reader hand weights to the runtime without copying: it
/// passes the mapped region and the object that unmaps it on deinit.
public final class TensorStorage: @unchecked Sendable {
    // Sendable proof: every stored property is a `let`; the owned array is immutable after
    // init, and a borrowed region is read-only by contract (the creator promises that nobody
    // writes to it while any TensorStorage referencing it is alive).
    private enum Backing {
        case owned([UInt8])
        case borrowed(UnsafeRawBufferPointer, owner: any Sendable)
    }

    private let backing: Backing

    public init(bytes: [UInt8]) { backing = .owned(bytes) }

    /// Wraps memory owned by `owner`, which must keep `region` valid and unchanged for as long
    /// as it is alive. No copy is made.
    public init(borrowing region: UnsafeRawBufferPointer, owner: any Sendable) {
        backing = .borrowed(region, owner: owner)
    }

    public var count: Int {
        switch backing {
        case .owned(let a): return a.count
        case .borrowed(let r, _): return r.count
        }
    }

    /// True when the bytes live in memory this storage does not own (e.g. an mmap'd file).
    public var isBorrowed: Bool {
        if case .borrowed = backing { return true }
        return false
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch backing {
        case .owned(let a): return try a.withUnsafeBytes(body)
        case .borrowed(let r, let owner): return try withExtendedLifetime(owner) { try body(r) }
        }
    }

    public var bytes: [UInt8] {
        switch backing {
        case .owned(let a): return a
        case .borrowed(let r, let owner): return withExtendedLifetime(owner) { Array(r) }
        }
    }
}
