/// A mergeable latency histogram over non-negative integer values (microseconds on the wire),
/// log-linear like HdrHistogram: values below 2^precisionBits (128) have a bucket each; above,
/// every power-of-two range [2^k, 2^(k+1)) is split into 64 equal buckets.
///
/// Error bound: a bucket's width is at most 1/64 of its lower bound, and a percentile query
/// answers the bucket's midpoint (clamped to the exact min and max), so the reported value is
/// within **1/128 ≈ 0.8 %** of some value recorded at that rank. Merging adds bucket counts and
/// is exact: merge(a, b) is the histogram of the union of a's and b's samples, in any order.
///
/// Storage is sparse (only non-empty buckets), so a typical device summary is a few dozen
/// pairs; the full index range for UInt64 values is 0...3775.
public struct LatencyHistogram: Sendable, Equatable {
    public static let precisionBits = 7
    static let linearLimit: UInt64 = 1 << precisionBits  // 128
    static let halfLimit: UInt64 = linearLimit / 2  // 64 sub-buckets per power of two
    public static let maxBucketIndex = bucketIndex(of: .max)

    /// bucket index → count, non-zero counts only.
    public private(set) var counts: [Int: UInt64] = [:]
    public private(set) var count: UInt64 = 0
    /// Saturating sum, for the mean.
    public private(set) var sum: UInt64 = 0
    public private(set) var min: UInt64 = .max
    public private(set) var max: UInt64 = 0

    public init() {}

    public static func bucketIndex(of value: UInt64) -> Int {
        guard value >= linearLimit else { return Int(value) }
        let bits = 64 - value.leadingZeroBitCount  // ≥ precisionBits + 1
        let shift = bits - precisionBits  // top = value >> shift is in [64, 128)
        let top = value >> UInt64(shift)
        return shift * Int(halfLimit) + Int(top)
    }

    /// The smallest and largest value that fall in bucket `index` (0...maxBucketIndex).
    public static func bucketRange(_ index: Int) -> ClosedRange<UInt64> {
        guard index >= Int(linearLimit) else { return UInt64(index)...UInt64(index) }
        let shift = index / Int(halfLimit) - 1
        let top = UInt64(index % Int(halfLimit)) + halfLimit
        let lower = top << UInt64(shift)
        // (top + 1) << shift overflows only for the very last bucket.
        let upper = top == linearLimit - 1 && shift == 57 ? UInt64.max : ((top + 1) << UInt64(shift)) - 1
        return lower...upper
    }

    public mutating func record(_ value: UInt64, times: UInt64 = 1) {
        guard times > 0 else { return }
        counts[Self.bucketIndex(of: value), default: 0] &+= times
        count &+= times
        let (product, overflow) = value.multipliedReportingOverflow(by: times)
        let (total, overflow2) = sum.addingReportingOverflow(product)
        sum = overflow || overflow2 ? .max : total
        min = Swift.min(min, value)
        max = Swift.max(max, value)
    }

    /// Adds `other`'s samples to this histogram (exact: same result as recording them here).
    public mutating func merge(_ other: LatencyHistogram) {
        for (index, n) in other.counts { counts[index, default: 0] &+= n }
        count &+= other.count
        let (total, overflow) = sum.addingReportingOverflow(other.sum)
        sum = overflow ? .max : total
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
    }

    /// The value at quantile `q` (0...1): the nearest-rank sample's bucket midpoint, clamped to
    /// the recorded min and max. nil when empty.
    public func percentile(_ q: Double) -> UInt64? {
        guard count > 0 else { return nil }
        let clamped = q.isNaN ? 1 : Swift.min(Swift.max(q, 0), 1)
        let rank = Swift.max(1, UInt64((clamped * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for index in counts.keys.sorted() {
            seen &+= counts[index] ?? 0
            if seen >= rank {
                let range = Self.bucketRange(index)
                let mid = range.lowerBound + (range.upperBound - range.lowerBound) / 2
                return Swift.min(Swift.max(mid, min), max)
            }
        }
        return max
    }

    public var mean: Double? { count == 0 ? nil : Double(sum) / Double(count) }
}

extension LatencyHistogram: Codable {
    // {"buckets":[[index,count],...],"count":n,"sum":s,"min":a,"max":b}; min/max omitted when
    // empty. Buckets are sorted by index so the encoding is deterministic.
    private enum CodingKeys: String, CodingKey { case buckets, count, sum, min, max }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(counts.keys.sorted().map { [UInt64($0), counts[$0] ?? 0] }, forKey: .buckets)
        try c.encode(count, forKey: .count)
        try c.encode(sum, forKey: .sum)
        if count > 0 {
            try c.encode(min, forKey: .min)
            try c.encode(max, forKey: .max)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let pairs = try c.decode([[UInt64]].self, forKey: .buckets)
        var total: UInt64 = 0
        for pair in pairs {
            guard pair.count == 2, pair[0] <= UInt64(Self.maxBucketIndex), pair[1] > 0, counts[Int(pair[0])] == nil else {
                throw DecodingError.dataCorruptedError(
                    forKey: .buckets, in: c,
                    debugDescription: "bucket \(pair) is not a unique [index ≤ \(Self.maxBucketIndex), count > 0] pair")
            }
            counts[Int(pair[0])] = pair[1]
            let (t, overflow) = total.addingReportingOverflow(pair[1])
            guard !overflow else { throw DecodingError.dataCorruptedError(forKey: .buckets, in: c, debugDescription: "counts overflow") }
            total = t
        }
        count = try c.decode(UInt64.self, forKey: .count)
        guard count == total else {
            throw DecodingError.dataCorruptedError(forKey: .count, in: c, debugDescription: "count \(count) but buckets hold \(total)")
        }
        sum = try c.decode(UInt64.self, forKey: .sum)
        if count > 0 {
            min = try c.decode(UInt64.self, forKey: .min)
            max = try c.decode(UInt64.self, forKey: .max)
            guard let first = counts.keys.min(), let last = counts.keys.max(), Self.bucketRange(first).contains(min),
                Self.bucketRange(last).contains(max)
            else {
                throw DecodingError.dataCorruptedError(forKey: .min, in: c, debugDescription: "min/max outside the first/last bucket")
            }
        }
    }
}
