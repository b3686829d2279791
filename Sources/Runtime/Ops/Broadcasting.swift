import ModelIR

/// Numpy-style multidirectional broadcasting of concrete shapes; nil when they do not broadcast.
func broadcastShapes(_ shapes: [[Int]]) -> [Int]? {
    let rank = shapes.map(\.count).max() ?? 0
    var out = [Int](repeating: 1, count: rank)
    for s in shapes {
        let padded = [Int](repeating: 1, count: rank - s.count) + s
        for i in 0..<rank where padded[i] != 1 {
            if out[i] == 1 { out[i] = padded[i] } else if out[i] != padded[i] { return nil }
        }
    }
    // A zero-size dimension broadcasts only against 1 or 0 (handled above: 0 != 1).
    return out
}

/// Strides (in elements) to read `shape` as if broadcast to `target` (0 on broadcast axes).
/// `elementStride` scales the innermost stride (a block size for batched matrices).
func broadcastStrides(_ shape: [Int], to target: [Int], elementStride: Int = 1) -> [Int] {
    let padded = [Int](repeating: 1, count: target.count - shape.count) + shape
    var strides = [Int](repeating: 0, count: target.count)
    var s = elementStride
    for i in stride(from: target.count - 1, through: 0, by: -1) {
        strides[i] = padded[i] == 1 ? 0 : s
        s *= padded[i]
    }
    return strides
}

/// Calls `body` with every index of `shape` in row-major order (plan-time helper).
func forEachIndex(_ shape: [Int], _ body: ([Int]) -> Void) {
    guard let count = Shape.checkedProductOrNil(shape), count > 0 else { return }
    var idx = [Int](repeating: 0, count: shape.count)
    for _ in 0..<count {
        body(idx)
        var d = shape.count - 1
        while d >= 0 {
            idx[d] += 1
            if idx[d] < shape[d] { break }
            idx[d] = 0
            d -= 1
        }
    }
}

extension Shape {
    static func checkedProductOrNil(_ v: [Int]) -> Int? { checkedProduct(v) }
}
