internal import CKernels
import ModelIR

/// The fp32 form of a pre-packed weight: a constant right-hand matrix of Gemm or MatMul packed
/// for one fp32 kernel path, as an artifact carries it.
///
/// Layout id "flotilla.f32.gemm.<path>.<nr>" (e.g. "flotilla.f32.gemm.avx512.32"): the path the
/// bytes were packed for and its panel width (0 for the reference path's plain row-major K×N).
/// The bytes are a 64-byte header, then op(B) packed as that path's `gemm_pack_b` writes it
/// (`flotilla_f32_gemm_pack_b_nr`), alpha not folded in. The header, little-endian:
///
/// | offset | field |
/// |---|---|
/// | 0 | magic "FLF32PKB" |
/// | 8 | u32 format version, 1 |
/// | 12 | u32 nr |
/// | 16 | u64 N (columns of op(B)) |
/// | 24 | u64 K (rows of op(B)) |
/// | 32 | u32 1 if op(B) = Bᵀ (Gemm transB), else 0 |
/// | 36 | zero to 64 |
///
/// The packed floats start 64 bytes in, so an artifact's 64-byte tensor alignment keeps them
/// aligned for in-place reads.
enum F32PackedB {
    static let headerBytes = 64
    static let magic: [UInt8] = Array("FLF32PKB".utf8)
    static let formatVersion: UInt32 = 1

    struct Header: Equatable {
        var nr: Int
        var n: Int
        var k: Int
        var transposed: Bool
    }

    static func layoutName(path: String, nr: Int) -> String { "flotilla.f32.gemm.\(path).\(nr)" }

    /// The path and panel width of an fp32 GEMM layout id, or nil if `layout` is not one.
    static func parse(layout: String) -> (path: String, nr: Int)? {
        let parts = layout.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "flotilla", parts[1] == "f32", parts[2] == "gemm", !parts[3].isEmpty,
            let nr = Int(parts[4]), nr >= 0, nr <= 1024
        else { return nil }
        return (String(parts[3]), nr)
    }

    /// The panel width a path's packer uses whatever this CPU is (nil: no such fp32 path).
    static func panelWidth(path: String) -> Int? {
        var nr = 0
        guard flotilla_f32_gemm_pack_b_layout_named(path, &nr) else { return nil }
        return nr
    }

    /// Floats of a packed op(B), nil when the size overflows.
    static func packedFloats(n: Int, k: Int, nr: Int) -> Int? {
        guard n >= 0, k >= 0, nr >= 0 else { return nil }
        let columns: Int
        if nr == 0 {
            columns = n
        } else {
            let (panels, o1) = (n / nr).addingReportingOverflow(n % nr == 0 ? 0 : 1)
            let (c, o2) = panels.multipliedReportingOverflow(by: nr)
            guard !o1, !o2 else { return nil }
            columns = c
        }
        let (floats, o3) = columns.multipliedReportingOverflow(by: k)
        let (bytes, o4) = floats.multipliedReportingOverflow(by: 4)
        guard !o3, !o4, bytes <= Int.max - headerBytes else { return nil }
        return floats
    }

    /// Header plus packed op(B) of `b` (row stride `ldb`) for panel width `nr`.
    static func pack(_ b: UnsafePointer<Float>, n: Int, k: Int, ldb: Int, transposed: Bool, nr: Int) -> [UInt8]? {
        guard let floats = packedFloats(n: n, k: k, nr: nr) else { return nil }
        var blob = [UInt8](repeating: 0, count: headerBytes + floats * 4)
        blob.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            for (i, c) in magic.enumerated() { raw[i] = c }
            base.storeBytes(of: formatVersion.littleEndian, toByteOffset: 8, as: UInt32.self)
            base.storeBytes(of: UInt32(nr).littleEndian, toByteOffset: 12, as: UInt32.self)
            base.storeBytes(of: UInt64(n).littleEndian, toByteOffset: 16, as: UInt64.self)
            base.storeBytes(of: UInt64(k).littleEndian, toByteOffset: 24, as: UInt64.self)
            base.storeBytes(of: UInt32(transposed ? 1 : 0).littleEndian, toByteOffset: 32, as: UInt32.self)
            let data = (base + headerBytes).bindMemory(to: Float.self, capacity: max(floats, 1))
            flotilla_f32_gemm_pack_b_nr(n, k, b, ldb, transposed, nr, data)
        }
        return blob
    }

    /// The header of `bytes`, nil if they are too short or do not start with an fp32 header.
    static func header(_ bytes: UnsafeRawBufferPointer) -> Header? {
        guard bytes.count >= headerBytes, let base = bytes.baseAddress, Array(bytes[0..<8]) == magic else { return nil }
        guard UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt32.self)) == formatVersion else { return nil }
        let nr = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        let n = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        let k = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        let t = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 32, as: UInt32.self))
        guard n <= UInt64(Int.max), k <= UInt64(Int.max), t <= 1 else { return nil }
        return Header(nr: Int(nr), n: Int(n), k: Int(k), transposed: t == 1)
    }
}
