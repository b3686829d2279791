internal import CKernels

/// Which fp32 kernel path a plan uses.
public enum KernelPath: Sendable, Hashable, CustomStringConvertible {
    /// The process-wide choice: the widest path this CPU runs, unless `FLOTILLA_KERNELS` says
    /// otherwise.
    case automatic
    /// The portable reference kernels (the numerics oracle).
    case reference
    /// A named path ("avx2", "avx512"); planning fails if this CPU cannot run it.
    case named(String)

    public var description: String {
        switch self {
        case .automatic: return "automatic"
        case .reference: return "reference"
        case .named(let n): return n
        }
    }
}

/// The CKernels dispatch table a plan was built with. Packed weights are only valid with the
/// table that packed them, so a plan holds exactly one.
struct KernelTable: @unchecked Sendable {
    // Sendable proof: the tables are static, immutable C structs for the process lifetime.
    let table: UnsafePointer<flotilla_f32_kernels>
    /// The int8 table of the same path (see `Quantized/Q8KernelChoice.swift` for the pairing).
    let q8: UnsafePointer<flotilla_q8_kernels>

    init?(_ path: KernelPath) {
        switch path {
        case .automatic: table = flotilla_f32_kernels_get()
        case .reference:
            guard let t = flotilla_f32_kernels_named("reference") else { return nil }
            table = t
        case .named(let n):
            guard let t = flotilla_f32_kernels_named(n) ?? flotilla_f32_kernels_named(Self.f32Name(forInt8: n)) else { return nil }
            table = t
        }
        guard let q = Self.int8Table(path) else { return nil }
        q8 = q
    }

    init(_ table: UnsafePointer<flotilla_f32_kernels>, q8: UnsafePointer<flotilla_q8_kernels>) {
        self.table = table
        self.q8 = q8
    }

    var name: String { String(cString: table.pointee.name) }
}
