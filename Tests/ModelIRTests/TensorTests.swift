import ModelIR
import XCTest

final class TensorTests: XCTestCase {
    func testTypedRoundTripAndByteLayout() throws {
        let t = try Tensor(floats: [1, -2.5, 3], shape: [3])
        XCTAssertEqual(t.floats, [1, -2.5, 3])
        XCTAssertEqual(t.byteCount, 12)
        XCTAssertEqual(Array(t.bytes[0..<4]), [0x00, 0x00, 0x80, 0x3F])  // 1.0f little-endian
        XCTAssertNil(t.int64s)
        let i = try Tensor(int64s: [-1, 7], shape: [2, 1])
        XCTAssertEqual(i.asInt64s, [-1, 7])
        XCTAssertEqual(i.asDoubles, [-1, 7])
        XCTAssertEqual(try Tensor(uint8s: [255, 0], shape: [2]).asInt64s, [255, 0])
    }

    func testByteCountMismatchIsRejected() {
        XCTAssertThrowsError(try Tensor(elementType: .float32, shape: [2, 2], bytes: [UInt8](repeating: 0, count: 15))) { e in
            XCTAssertTrue("\(e)".contains("15 bytes"), "\(e)")
        }
        XCTAssertThrowsError(try Tensor(elementType: .int8, shape: [1 << 40, 1 << 40], bytes: []))
        XCTAssertThrowsError(try Tensor(elementType: .int8, shape: [-1], bytes: []))
    }

    func testBorrowedStorageIsNotCopied() throws {
        final class Region: @unchecked Sendable {
            let pointer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 16)
            deinit { pointer.deallocate() }
        }
        let region = Region()
        region.pointer.storeBytes(of: Int64(42), as: Int64.self)
        let t = try Tensor(
            elementType: .int64, shape: [1], storage: TensorStorage(borrowing: UnsafeRawBufferPointer(region.pointer), owner: region))
        XCTAssertTrue(t.storage.isBorrowed)
        XCTAssertEqual(t.int64s, [42])
        t.withUnsafeBytes { XCTAssertEqual($0.baseAddress, UnsafeRawPointer(region.pointer.baseAddress)) }
    }

    func testFloat16Conversion() {
        XCTAssertEqual(Tensor.float16ToFloat(0x3C00), 1)
        XCTAssertEqual(Tensor.float16ToFloat(0xC000), -2)
        XCTAssertEqual(Tensor.float16ToFloat(0x7BFF), 65504)
        XCTAssertEqual(Tensor.float16ToFloat(0x0001), Float(sign: .plus, exponent: -24, significand: 1))
        XCTAssertEqual(Tensor.float16ToFloat(0x7C00), .infinity)
        XCTAssertTrue(Tensor.float16ToFloat(0x7E00).isNaN)
    }

    func testQuantParametersValidation() throws {
        let q = try QuantParameters(scale: 0.5, zeroPoint: 3)
        XCTAssertTrue(q.isPerTensor)
        XCTAssertThrowsError(try QuantParameters(scale: 0, zeroPoint: 0))
        XCTAssertThrowsError(try QuantParameters(scale: .nan, zeroPoint: 0))
        XCTAssertThrowsError(try QuantParameters(scales: [1, 2], zeroPoints: [0], axis: 0))
        XCTAssertThrowsError(try QuantParameters(scales: [1, 2], zeroPoints: [0, 0], axis: nil))
        let pc = try QuantParameters(scales: [1, 2], zeroPoints: [0, 0], axis: 0)
        XCTAssertNoThrow(try pc.validate(for: .int8, shape: [2, 3]))
        XCTAssertThrowsError(try pc.validate(for: .int8, shape: [3, 3]))
        XCTAssertThrowsError(try pc.validate(for: .float32, shape: [2]))
        XCTAssertThrowsError(try QuantParameters(scale: 1, zeroPoint: 200).validate(for: .int8, shape: nil))
    }
}
