import ModelIR
import TestSupport
import XCTest

/// PackedTensor: the one packed-weight type artifacts and plans share. Its init is the only
/// gate (artifact reader, writer and the runtime's packers all go through it).
final class PackedTensorTests: XCTestCase {
    func testAcceptsLayoutIdsAndKeepsBytesAndLogicalType() throws {
        var rng = SplitMix64(seed: 21)
        let bytes = (0..<100).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let p = try PackedTensor(layout: "flotilla.q8.gemm.avx512vnni.2", elementType: .int8, shape: [4, 3], bytes: bytes)
        XCTAssertEqual(p.byteCount, 100, "the byte length is the packing's, not shape × element size")
        XCTAssertEqual(p.bytes, bytes)
        XCTAssertEqual(p.withUnsafeBytes { Array($0) }, bytes)
        XCTAssertEqual(p.tensorType, TensorType(.int8, Shape([4, 3])))
        XCTAssertEqual("\(p)", "PackedTensor(flotilla.q8.gemm.avx512vnni.2, int8[4, 3], 100 bytes)")
        for layout in ["a", "qs8_gemm_avx512vnni_v1", "A-Z.0-9_x", String(repeating: "z", count: PackedTensor.maxLayoutLength)] {
            XCTAssertNoThrow(try PackedTensor(layout: layout, elementType: .float32, shape: [], bytes: []), layout)
        }
        XCTAssertNoThrow(try PackedTensor(layout: "l", elementType: .uint8, shape: [0, 7], bytes: []))
    }

    func testEqualityComparesLayoutTypeShapeAndBytes() throws {
        let a = try PackedTensor(layout: "l1", elementType: .int8, shape: [2, 2], bytes: [1, 2, 3])
        XCTAssertEqual(a, try PackedTensor(layout: "l1", elementType: .int8, shape: [2, 2], bytes: [1, 2, 3]))
        XCTAssertNotEqual(a, try PackedTensor(layout: "l2", elementType: .int8, shape: [2, 2], bytes: [1, 2, 3]))
        XCTAssertNotEqual(a, try PackedTensor(layout: "l1", elementType: .uint8, shape: [2, 2], bytes: [1, 2, 3]))
        XCTAssertNotEqual(a, try PackedTensor(layout: "l1", elementType: .int8, shape: [4], bytes: [1, 2, 3]))
        XCTAssertNotEqual(a, try PackedTensor(layout: "l1", elementType: .int8, shape: [2, 2], bytes: [1, 2, 4]))
    }

    /// Borrowed storage (a mapped artifact) is kept as is, not copied: plans read it in place.
    func testBorrowedStorageIsNotCopied() throws {
        let region = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 64)
        defer { region.deallocate() }
        for i in 0..<64 { region[i] = UInt8(i) }
        let storage = TensorStorage(borrowing: UnsafeRawBufferPointer(region), owner: 0)
        let p = try PackedTensor(layout: "l", elementType: .float32, shape: [4, 4], storage: storage)
        XCTAssertTrue(p.storage.isBorrowed)
        XCTAssertEqual(p.withUnsafeBytes { $0.baseAddress }, UnsafeRawPointer(region.baseAddress))
        XCTAssertEqual(p.bytes, (0..<64).map(UInt8.init))
    }

    func testRefusalsNameTheTensorAndSayHowToFixIt() {
        let tooLong = String(repeating: "z", count: PackedTensor.maxLayoutLength + 1)
        let cases: [(String, ElementType, [Int], String)] = [
            ("", .int8, [2], "layout id must be"),
            ("bad layout!", .int8, [2], "layout id must be"),
            ("ünï", .int8, [2], "layout id must be"),
            ("a/b", .int8, [2], "layout id must be"),
            (tooLong, .int8, [2], "layout id must be"),
            ("l", .string, [2], "only numeric weights"),
            ("l", .int8, [3, -1], "negative dimension"),
            ("l", .int8, [Int.max, 2], "overflows"),
        ]
        for (layout, type, shape, why) in cases {
            XCTAssertThrowsError(try PackedTensor(layout: layout, elementType: type, shape: shape, bytes: [1])) { e in
                guard case .invalidPackedTensor(let l, let t, let s, _) = e as? ModelIRError else {
                    return XCTFail("\(layout) \(type)\(shape): unexpected \(e)")
                }
                XCTAssertEqual(l, layout)
                XCTAssertEqual(t, type)
                XCTAssertEqual(s, shape)
                let text = "\(e)"
                XCTAssertTrue(text.contains("layout \"\(layout)\"") && text.contains("\(type)\(shape)"), text)
                XCTAssertTrue(text.contains(why), text)
            }
        }
    }
}
