import Foundation

/// Natural logarithm, kept behind one name so files that only need it avoid importing
/// Foundation (and its `Dimension`, which clashes with ModelIR's).
@inline(__always) func naturalLog(_ x: Double) -> Double { Foundation.log(x) }
