import ModelIR

/// Element type conversion. Float → integer truncates toward zero and saturates (NaN → 0)
/// instead of trapping; anything → bool is `x != 0`.
final class CastKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    static let supported: Set<ElementType> = [.float32, .float64, .int64, .int32, .int16, .int8, .uint8, .uint16, .uint32, .uint64, .bool]

    let input, output: Buffer
    let from, to: ElementType
    let count: Int

    init(input: Buffer, output: Buffer, from: ElementType, to: ElementType, count: Int) {
        self.input = input
        self.output = output
        self.from = from
        self.to = to
        self.count = count
    }

    func execute(_ memory: Memory) throws {
        let src = memory.raw(input), dst = memory.raw(output)
        if from == to {
            dst.copyMemory(from: src, byteCount: count * (from.byteSize ?? 0))
            return
        }
        if to == .float32, castToFloatDirectly(src, dst) { return }
        if from.isFloatingPoint {
            for i in 0..<count { store(double: load(double: src, i), dst, i) }
        } else {
            for i in 0..<count { store(int: load(int: src, i), dst, i) }
        }
    }

    /// The casts quantized graphs run on every inference (the int32 accumulators of
    /// MatMulInteger/ConvInteger, int8/uint8 tensors) as plain loops the compiler vectorizes,
    /// instead of a type switch per element. Same values: each integer converts to the nearest
    /// float either way.
    private func castToFloatDirectly(_ src: UnsafeMutableRawPointer, _ dst: UnsafeMutableRawPointer) -> Bool {
        let out = dst.assumingMemoryBound(to: Float.self)
        switch from {
        case .int32:
            let p = src.assumingMemoryBound(to: Int32.self)
            for i in 0..<count { out[i] = Float(p[i]) }
        case .uint8:
            let p = src.assumingMemoryBound(to: UInt8.self)
            for i in 0..<count { out[i] = Float(p[i]) }
        case .int8:
            let p = src.assumingMemoryBound(to: Int8.self)
            for i in 0..<count { out[i] = Float(p[i]) }
        default:
            return false
        }
        return true
    }

    @inline(__always) private func load(double p: UnsafeMutableRawPointer, _ i: Int) -> Double {
        from == .float64 ? p.load(fromByteOffset: i * 8, as: Double.self) : Double(p.load(fromByteOffset: i * 4, as: Float.self))
    }

    @inline(__always) private func load(int p: UnsafeMutableRawPointer, _ i: Int) -> Int64 {
        switch from {
        case .int64: return p.load(fromByteOffset: i * 8, as: Int64.self)
        case .uint64: return Int64(bitPattern: p.load(fromByteOffset: i * 8, as: UInt64.self))
        case .int32: return Int64(p.load(fromByteOffset: i * 4, as: Int32.self))
        case .uint32: return Int64(p.load(fromByteOffset: i * 4, as: UInt32.self))
        case .int16: return Int64(p.load(fromByteOffset: i * 2, as: Int16.self))
        case .uint16: return Int64(p.load(fromByteOffset: i * 2, as: UInt16.self))
        case .int8: return Int64(p.load(fromByteOffset: i, as: Int8.self))
        default: return Int64(p.load(fromByteOffset: i, as: UInt8.self))
        }
    }

    @inline(__always) private func store(double v: Double, _ p: UnsafeMutableRawPointer, _ i: Int) {
        switch to {
        case .float32: p.storeBytes(of: Float(v), toByteOffset: i * 4, as: Float.self)
        case .float64: p.storeBytes(of: v, toByteOffset: i * 8, as: Double.self)
        case .bool: p.storeBytes(of: v != 0 ? 1 : 0, toByteOffset: i, as: UInt8.self)
        default:
            // Truncate toward zero, saturate at the Int64 range; narrower types then wrap like C.
            let t = v.rounded(.towardZero)
            let wide: Int64 = v.isNaN ? 0 : (t >= 9.2233720368547758e18 ? .max : (t <= -9.2233720368547758e18 ? .min : Int64(t)))
            store(int: wide, p, i)
        }
    }

    @inline(__always) private func store(int v: Int64, _ p: UnsafeMutableRawPointer, _ i: Int) {
        switch to {
        case .float32: p.storeBytes(of: Float(v), toByteOffset: i * 4, as: Float.self)
        case .float64: p.storeBytes(of: Double(v), toByteOffset: i * 8, as: Double.self)
        case .bool: p.storeBytes(of: v != 0 ? 1 : 0, toByteOffset: i, as: UInt8.self)
        case .int64: p.storeBytes(of: v, toByteOffset: i * 8, as: Int64.self)
        case .uint64: p.storeBytes(of: UInt64(bitPattern: v), toByteOffset: i * 8, as: UInt64.self)
        case .int32: p.storeBytes(of: Int32(truncatingIfNeeded: v), toByteOffset: i * 4, as: Int32.self)
        case .uint32: p.storeBytes(of: UInt32(truncatingIfNeeded: v), toByteOffset: i * 4, as: UInt32.self)
        case .int16: p.storeBytes(of: Int16(truncatingIfNeeded: v), toByteOffset: i * 2, as: Int16.self)
        case .uint16: p.storeBytes(of: UInt16(truncatingIfNeeded: v), toByteOffset: i * 2, as: UInt16.self)
        case .int8: p.storeBytes(of: Int8(truncatingIfNeeded: v), toByteOffset: i, as: Int8.self)
        default: p.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: i, as: UInt8.self)
        }
    }
}
