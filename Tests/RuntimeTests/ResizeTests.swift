import ModelIR
import Runtime
import XCTest

/// Resize coordinate transformations and nearest rounding modes on a 1×1×1×4 row, by hand.
final class ResizeTests: XCTestCase {
    let row = t([0, 10, 20, 30], [1, 1, 1, 4])

    func resize(_ mode: String, _ transform: String, scale: Float? = nil, size: Int64? = nil, rounding: String? = nil) throws -> Tensor? {
        var attrs: [String: Attribute] = ["mode": .s(mode), "coordinate_transformation_mode": .s(transform)]
        if let rounding { attrs["nearest_mode"] = .s(rounding) }
        if let scale {
            return try runNode(
                "Resize", inputs: [("x", row)], constants: ["s": t([1, 1, 1, scale], [4])], nodeInputs: ["x", "", "s"],
                attributes: attrs)["y"]
        }
        return try runNode(
            "Resize", inputs: [("x", row)], constants: ["z": ti([1, 1, 1, size ?? 4], [4])], nodeInputs: ["x", "", "", "z"],
            attributes: attrs)["y"]
    }

    func testLinearCoordinateModes() throws {
        // ×2 → 8 outputs. half_pixel: src = (j + 0.5)/2 - 0.5 = -0.25, 0.25, 0.75, … clamped to [0, 3].
        assertClose(try resize("linear", "half_pixel", scale: 2), [0, 2.5, 7.5, 12.5, 17.5, 22.5, 27.5, 30], shape: [1, 1, 1, 8])
        // asymmetric: src = j/2.
        assertClose(try resize("linear", "asymmetric", scale: 2), [0, 5, 10, 15, 20, 25, 30, 30])
        // align_corners to 7: src = j·3/6 = j/2.
        assertClose(try resize("linear", "align_corners", size: 7), [0, 5, 10, 15, 20, 25, 30], shape: [1, 1, 1, 7])
        // pytorch_half_pixel to size 1: src = 0 (half_pixel would give (0.5)·4 - 0.5 = 1.5 → 15).
        assertClose(try resize("linear", "pytorch_half_pixel", size: 1), [0], shape: [1, 1, 1, 1])
        assertClose(try resize("linear", "half_pixel", size: 1), [15], shape: [1, 1, 1, 1])
    }

    func testNearestRoundingModes() throws {
        // ×0.5 asymmetric: src = 2j → 0, 2 exactly.
        assertClose(try resize("nearest", "asymmetric", scale: 0.5), [0, 20], shape: [1, 1, 1, 2])
        // half_pixel ×2: src = -0.25, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.25.
        assertClose(try resize("nearest", "half_pixel", scale: 2, rounding: "floor"), [0, 0, 0, 10, 10, 20, 20, 30])
        assertClose(try resize("nearest", "half_pixel", scale: 2, rounding: "ceil"), [0, 10, 10, 20, 20, 30, 30, 30])
        assertClose(try resize("nearest", "half_pixel", scale: 2), [0, 0, 10, 10, 20, 20, 30, 30])
        // Ties (src = x.5): align_corners 4 → 3: src = 0, 1.5, 3.
        assertClose(try resize("nearest", "align_corners", size: 3, rounding: "round_prefer_floor"), [0, 10, 30])
        assertClose(try resize("nearest", "align_corners", size: 3, rounding: "round_prefer_ceil"), [0, 20, 30])
    }

    func testUnsupportedModesAreNamed() {
        XCTAssertThrowsError(try resize("bicubic", "half_pixel", scale: 2)) { e in XCTAssertTrue("\(e)".contains("'bicubic'"), "\(e)") }
        XCTAssertThrowsError(try resize("nearest", "tf_half_pixel_for_nn", scale: 2)) { e in
            XCTAssertTrue("\(e)".contains("tf_half_pixel_for_nn"), "\(e)")
        }
    }

    func testCubicReproducesARampInsideAndHonoursExcludeOutside() throws {
        // Keys' cubic kernel reproduces linear functions for any a: away from the edges (where
        // taps replicate the border) the ×2 asymmetric resize of 10·i is 10·src = 5·j.
        let ramp = t((0..<8).map { Float($0 * 10) }, [1, 1, 1, 8])
        for a: Float in [-0.75, -0.5] {
            let y = try runNode(
                "Resize", inputs: [("x", ramp)], constants: ["s": t([1, 1, 1, 2], [4])], nodeInputs: ["x", "", "s"],
                attributes: ["mode": .s("cubic"), "coordinate_transformation_mode": .s("asymmetric"), "cubic_coeff_a": .f(a)])["y"]
            let f = y?.floats ?? []
            XCTAssertEqual(f.count, 16)
            for j in 2...11 { XCTAssertEqual(f[j], Float(5 * j), accuracy: 1e-4, "a = \(a), j = \(j)") }
        }
        // exclude_outside renormalizes over taps inside the input: a constant stays constant
        // at the border too.
        let flat = t([4, 4, 4, 4], [1, 1, 1, 4])
        let y = try runNode(
            "Resize", inputs: [("x", flat)], constants: ["s": t([1, 1, 1, 1.5], [4])], nodeInputs: ["x", "", "s"],
            attributes: ["mode": .s("cubic"), "exclude_outside": .i(1)])["y"]
        assertClose(y, [4, 4, 4, 4, 4, 4], shape: [1, 1, 1, 6])
    }

    func testCropAndResizeExtrapolatesOutsideTheInput() throws {
        // roi [0, 2] on the last axis of 4 elements, 4 outputs: src = j·2·3/3 = 2j → 0, 2, 4, 6;
        // 4 and 6 lie past the input (> 3) and take the extrapolation value.
        let y = try runNode(
            "Resize", inputs: [("x", row)],
            constants: ["r": t([0, 0, 0, 0, 1, 1, 1, 2], [8]), "z": ti([1, 1, 1, 4], [4])], nodeInputs: ["x", "r", "", "z"],
            attributes: [
                "mode": .s("linear"), "coordinate_transformation_mode": .s("tf_crop_and_resize"), "extrapolation_value": .f(-9),
            ])["y"]
        assertClose(y, [0, 20, -9, -9])
    }

    func testKeepAspectRatioAndAlignCornersWithScales() throws {
        let x = t((0..<8).map(Float.init), [1, 1, 2, 4])
        // not_larger: min(4/2, 4/4) = 1 → unchanged; not_smaller: max = 2 → 4×8.
        let small = try runNode(
            "Resize", inputs: [("x", x)], constants: ["z": ti([4, 4], [2])], nodeInputs: ["x", "", "", "z"],
            attributes: ["axes": .is([2, 3]), "keep_aspect_ratio_policy": .s("not_larger")])["y"]
        XCTAssertEqual(small?.shape, [1, 1, 2, 4])
        let large = try runNode(
            "Resize", inputs: [("x", x)], constants: ["z": ti([4, 4], [2])], nodeInputs: ["x", "", "", "z"],
            attributes: ["axes": .is([2, 3]), "keep_aspect_ratio_policy": .s("not_smaller")])["y"]
        XCTAssertEqual(large?.shape, [1, 1, 4, 8])
        // align_corners with scale 0.6 on 4 elements: 2 outputs, but the transform divides by
        // 4·0.6 − 1 = 1.4, not by 2 − 1: src = 0 and 3/1.4 → 0 and 21.43.
        let y = try runNode(
            "Resize", inputs: [("x", row)], constants: ["s": t([1, 1, 1, 0.6], [4])], nodeInputs: ["x", "", "s"],
            attributes: ["mode": .s("linear"), "coordinate_transformation_mode": .s("align_corners")])["y"]
        assertClose(y, [0, 30 / 1.4], shape: [1, 1, 1, 2], tol: 1e-4)
    }
}
