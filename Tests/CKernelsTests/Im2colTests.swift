import CKernels
import TestSupport
import XCTest

/// im2col is pure data movement: every path must be bit-identical to the reference, and the
/// reference itself is checked against hand-computed columns and the geometry rules.
final class Im2colTests: XCTestCase {
    func testEveryPathIsBitExactWithReference() {
        let reference = referenceTable()
        var rng = SplitMix64(seed: 0x1C01)
        var geometries = randomGeometries(count: 400, seed: 11)
        geometries.append(geometry(channels: 3, h: 224, w: 224, kernel: 3, stride: 2, pads: (0, 0, 1, 1)))
        geometries.append(geometry(channels: 1, h: 8, w: 8, kernel: 3, stride: 1, pads: (1, 1, 1, 1)))
        for var g in geometries {
            let input = rng.floats(g.channels * g.in_h * g.in_w)
            let rows = g.channels * g.kernel_h * g.kernel_w
            let count = rows * flotilla_f32_conv2d_out_h(&g) * flotilla_f32_conv2d_out_w(&g)
            var expected = [Float](repeating: .nan, count: count)
            reference.pointee.im2col(&g, input, &expected)
            for table in optimizedTables() {
                var actual = [Float](repeating: .nan, count: count)
                table.pointee.im2col(&g, input, &actual)
                guard let i = actual.indices.first(where: { actual[$0].bitPattern != expected[$0].bitPattern })
                else { continue }
                XCTFail("\(pathName(table)) im2col \(describe(g)): element \(i) is \(actual[i]), reference \(expected[i])")
            }
        }
    }

    /// 1 channel 3×3 input, 2×2 kernel, stride 1, pad 1 on top/left only: a 3×3 output whose
    /// columns are written out by hand.
    func testReferenceMatchesHandComputedColumns() {
        var g = geometry(channels: 1, h: 3, w: 3, kernel: 2, stride: 1, pads: (1, 1, 0, 0))
        XCTAssertEqual(flotilla_f32_conv2d_out_h(&g), 3)
        XCTAssertEqual(flotilla_f32_conv2d_out_w(&g), 3)
        let input: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let expected: [Float] = [
            0, 0, 0, 0, 1, 2, 0, 4, 5,  // tap (0,0)
            0, 0, 0, 1, 2, 3, 4, 5, 6,  // tap (0,1)
            0, 1, 2, 0, 4, 5, 0, 7, 8,  // tap (1,0)
            1, 2, 3, 4, 5, 6, 7, 8, 9,  // tap (1,1)
        ]
        for table in runnableTables() {
            var columns = [Float](repeating: .nan, count: 36)
            table.pointee.im2col(&g, input, &columns)
            XCTAssertEqual(columns, expected, pathName(table))
        }
    }

    func testGeometryCheckNamesWhatIsWrong() {
        var g = geometry(channels: 1, h: 4, w: 4, kernel: 3, stride: 1, pads: (0, 0, 0, 0))
        XCTAssertEqual(flotilla_f32_conv2d_geometry_check(&g), FLOTILLA_F32_GEOMETRY_OK)
        g.stride_w = 0
        XCTAssertEqual(flotilla_f32_conv2d_geometry_check(&g), FLOTILLA_F32_GEOMETRY_ZERO_STRIDE)
        g.stride_w = 1
        g.dilation_h = 0
        XCTAssertEqual(flotilla_f32_conv2d_geometry_check(&g), FLOTILLA_F32_GEOMETRY_ZERO_DILATION)
        g.dilation_h = 2  // dilated kernel spans 5 rows of a 4-row input
        XCTAssertEqual(flotilla_f32_conv2d_geometry_check(&g), FLOTILLA_F32_GEOMETRY_EMPTY_OUTPUT)
        g.pad_bottom = 1
        XCTAssertEqual(flotilla_f32_conv2d_geometry_check(&g), FLOTILLA_F32_GEOMETRY_OK)
        XCTAssertEqual(flotilla_f32_conv2d_out_h(&g), 1)
        g.channels = 0
        XCTAssertEqual(flotilla_f32_conv2d_geometry_check(&g), FLOTILLA_F32_GEOMETRY_ZERO_DIMENSION)
        g.channels = 1
        g.pad_right = Int.max
        XCTAssertEqual(flotilla_f32_conv2d_geometry_check(&g), FLOTILLA_F32_GEOMETRY_TOO_LARGE)
    }
}
