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
}
