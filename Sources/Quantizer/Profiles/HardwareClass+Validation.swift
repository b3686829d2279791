/// Consistency rules between a profile's settings (docs/quantization.md "Validation").
extension HardwareClass {
    func validate(file: String) throws {
        func fail(_ key: String, _ detail: String) -> QuantizerError { .invalidProfile(file: file, key: key, detail: detail) }

        let known = Self.knownFeatureNames
        if let bad = requiredFeatures.sorted().first(where: { !known.contains($0) }) {
            throw fail("requiredFeatures", "'\(bad)' is not a CPU feature name; use \(known.sorted().joined(separator: ", "))")
        }
        let missing = kernelPath.requiredFeatures.subtracting(requiredFeatures)
        if !missing.isEmpty {
            throw fail(
                "requiredFeatures",
                "kernel path '\(kernelPath.rawValue)' needs \(missing.sorted().joined(separator: ", ")), "
                    + "which the class does not require; add them or pick another kernel path")
        }
        if kernelPath.architecture != .any, architecture != kernelPath.architecture {
            throw fail(
                "architecture",
                "'\(architecture.rawValue)' cannot run kernel path '\(kernelPath.rawValue)' "
                    + "(an \(kernelPath.architecture.rawValue) path)")
        }
        if architecture == .any, !requiredFeatures.isEmpty {
            throw fail(
                "architecture",
                "'any' fits every CPU, but the class requires \(requiredFeatures.sorted()); "
                    + "name the architecture those features belong to")
        }
        if let bad = int8Ops.sorted().first(where: { !QuantizableOps.all.contains($0) }) {
            throw fail(
                "int8Ops", "'\(bad)' has no int8 kernel or rule; int8 ops are \(QuantizableOps.all.sorted().joined(separator: ", "))")
        }
        guard weightBits == 8 || weightBits == 7 else {
            throw fail("weightBits", "\(weightBits) is not supported; use 8, or 7 for the AVX2 reduce-range layout")
        }
        // 7-bit weights exist only for AVX2's VPMADDUBSW layout; anywhere else they halve the
        // weight resolution and buy nothing (every other path has an exact 8-bit kernel).
        if weightBits == 7, kernelPath != .avx2 {
            throw fail(
                "weightBits",
                "7-bit weights only pay off on the 'avx2' kernel path (VPMADDUBSW); "
                    + "'\(kernelPath.rawValue)' runs 8-bit weights exactly: use 8")
        }
        let layout = kernelPath.layoutID(weightBits: weightBits)
        guard weightLayout == layout else {
            throw fail(
                "weightLayout",
                "\(weightLayout) does not match kernel path '\(kernelPath.rawValue)' with \(weightBits)-bit weights, "
                    + "whose kernels pack layout \(layout) (docs/kernels.md)")
        }
        // Symmetric s8 activations cannot represent a zero point; a per-tensor class that
        // runs only the reference kernels could take any type, so only the ARM paths, whose
        // operand is natively s8, are held to signed activations, and the x86 paths, whose
        // VPDPBUSD/VPMADDUBSW operand is u8, to uint8 (anything else costs a flip per call).
        let x86 = kernelPath == .avx2 || kernelPath == .avx512vnni
        let arm = kernelPath == .neon || kernelPath == .neondot
        if x86, activationType != .uint8Asymmetric {
            throw fail(
                "activationType",
                "kernel path '\(kernelPath.rawValue)' takes u8 activations (VPDPBUSD/VPMADDUBSW "
                    + "multiply u8 × s8); '\(activationType.rawValue)' would be flipped on every call: use 'uint8Asymmetric'")
        }
        if arm, activationType == .uint8Asymmetric {
            throw fail(
                "activationType",
                "kernel path '\(kernelPath.rawValue)' multiplies s8 × s8 (SDOT/SMLAL); "
                    + "'uint8Asymmetric' would be flipped on every call: use 'int8Symmetric' or 'int8Asymmetric'")
        }
        guard memoryBudgetBytes > 0 else {
            throw fail("memoryBudgetBytes", "\(memoryBudgetBytes) must be a positive number of bytes")
        }
        if let ms = latencyBudgetMs, !(ms > 0) {
            throw fail("latencyBudgetMs", "\(ms) must be a positive number of milliseconds, or leave the key out")
        }
        if calibrators.isEmpty {
            throw fail("calibrators", "list at least one calibrator (\(Self.choices(CalibratorKind.self)))")
        }
        guard percentile > 50, percentile <= 100 else {
            throw fail("percentile", "\(percentile) must lie in (50, 100]; 99.99 is the usual choice")
        }
    }
}
