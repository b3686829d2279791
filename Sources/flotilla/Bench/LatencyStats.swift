import Foundation

/// Summary statistics of latency samples, in microseconds. Percentiles interpolate linearly
/// between order statistics (numpy's default), so figures compare directly with
/// `np.percentile` over ONNX Runtime's samples in benchmarks/fp32.
struct LatencyStats: Codable {
    var runs: Int
    var min: Double
    var p50: Double
    var p95: Double
    var p99: Double
    var mean: Double
    var max: Double
    var stddev: Double

    init?(microseconds samples: [Double]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        runs = sorted.count
        min = sorted[0]
        max = sorted[sorted.count - 1]
        mean = sorted.reduce(0, +) / Double(sorted.count)
        let m = mean
        stddev = (sorted.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(sorted.count)).squareRoot()
        p50 = Self.percentile(sorted, 50)
        p95 = Self.percentile(sorted, 95)
        p99 = Self.percentile(sorted, 99)
    }

    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard let first = sorted.first else { return 0 }
        let position = q / 100 * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return sorted.count == 1 ? first : sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }
}

/// A text histogram of latency samples: equal-width bins from the minimum to the 99th
/// percentile, with the slow tail above it gathered in one last bin so one outlier does not
/// squash every other bar.
struct LatencyHistogram: Codable {
    struct Bin: Codable {
        var lowUs: Double
        var highUs: Double
        var count: Int

        enum CodingKeys: String, CodingKey { case lowUs = "low_us", highUs = "high_us", count }
    }

    var bins: [Bin]

    init(microseconds samples: [Double], stats: LatencyStats, binCount: Int = 10) {
        let low = stats.min
        let high = Swift.max(stats.p99, low)
        let width = (high - low) / Double(binCount)
        var bins = (0..<binCount).map { i in Bin(lowUs: low + Double(i) * width, highUs: low + Double(i + 1) * width, count: 0) }
        var tail = Bin(lowUs: high, highUs: stats.max, count: 0)
        for s in samples {
            if s > high {
                tail.count += 1
            } else if width > 0 {
                bins[Swift.min(Int((s - low) / width), binCount - 1)].count += 1
            } else {
                bins[0].count += 1
            }
        }
        if tail.count > 0 { bins.append(tail) }
        self.bins = bins.filter { $0.count > 0 || width > 0 }
    }

    func render(barWidth: Int = 40) -> String {
        let most = bins.map(\.count).max() ?? 0
        var table = TextTable(["µs from", "to", "runs", ""], alignments: [.right, .right, .right, .left])
        for b in bins {
            let length = most > 0 ? Int((Double(b.count) / Double(most) * Double(barWidth)).rounded(.up)) : 0
            table.add([Format.micros(b.lowUs), Format.micros(b.highUs), String(b.count), String(repeating: "#", count: length)])
        }
        return table.render()
    }
}
