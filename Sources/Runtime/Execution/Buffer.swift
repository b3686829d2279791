/// Where a value lives while a plan runs: an offset into one of the session's arenas, or a
/// fixed address in the plan's constant pool. Resolved to a pointer per access in the op loop
/// (an add and a load; no allocation).
struct Buffer: @unchecked Sendable {
    // Sendable proof: `absolute` points into a `ConstantPool` that is written only while the
    // plan is built and read-only afterwards; arena offsets are plain integers.
    /// Arena index (0 = main graph, then one per subgraph) or -1 for `absolute`.
    let arena: Int
    let offset: Int
    let absolute: UnsafeMutableRawPointer?
    /// Size in bytes, for copies and checks.
    let bytes: Int

    static func arena(_ index: Int, offset: Int, bytes: Int) -> Buffer {
        Buffer(arena: index, offset: offset, absolute: nil, bytes: bytes)
    }

    static func constant(_ pointer: UnsafeMutableRawPointer, bytes: Int) -> Buffer {
        Buffer(arena: -1, offset: 0, absolute: pointer, bytes: bytes)
    }

    /// A buffer that is never read (zero-size workspaces).
    static let none = Buffer(arena: -1, offset: 0, absolute: nil, bytes: 0)
}

/// The memory of one session as the kernels see it: one base address per arena.
struct Memory {
    let bases: UnsafePointer<UnsafeMutableRawPointer>
    /// The session's intra-op threads; nil runs every kernel on the calling thread.
    var pool: WorkerPool? = nil

    @inline(__always)
    func raw(_ b: Buffer) -> UnsafeMutableRawPointer {
        if let p = b.absolute { return p }
        return bases[b.arena] + b.offset
    }

    @inline(__always)
    func floats(_ b: Buffer) -> UnsafeMutablePointer<Float> { raw(b).assumingMemoryBound(to: Float.self) }

    @inline(__always)
    func typed<T>(_ b: Buffer, _: T.Type) -> UnsafeMutablePointer<T> { raw(b).assumingMemoryBound(to: T.self) }
}

/// One planned step's executable half. Kernels are shared by every session of a plan, so they
/// hold only plan-time constants (geometry, pointers into the constant pool, buffer offsets)
/// and keep all per-run state in the arena.
protocol Kernel: AnyObject, Sendable {
    func execute(_ memory: Memory) throws
}

extension Memory {
    /// Splits [0, count) into contiguous chunks whose starts are multiples of `align` (one per
    /// pool thread at most) and runs `body(start, end)` for each, in parallel when there is a
    /// pool and `parallel` says the work is worth waking it. The split depends only on `count`,
    /// `align` and the pool's width, and each element belongs to exactly one chunk, so a kernel
    /// that computes each output element inside one chunk gives the same bits at any width.
    func chunks(_ count: Int, align: Int = 1, parallel: Bool, _ body: (Int, Int) -> Void) {
        indexedChunks(count, align: align, parallel: parallel) { _, start, end in body(start, end) }
    }

    /// `chunks` with each chunk's index (0 ..< pool width), for per-chunk workspace and status.
    func indexedChunks(_ count: Int, align: Int = 1, parallel: Bool, _ body: (Int, Int, Int) -> Void) {
        guard count > 0 else { return }
        guard parallel, let pool, pool.width > 1 else {
            body(0, 0, count)
            return
        }
        let a = Swift.max(align, 1)
        let units = (count + a - 1) / a
        let n = Swift.min(pool.width, units)
        let per = (units + n - 1) / n * a
        pool.run(tasks: n) { i in
            let start = i * per
            if start < count { body(i, start, Swift.min(count, start + per)) }
        }
    }
}
