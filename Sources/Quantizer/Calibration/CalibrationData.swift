public import Foundation
public import ModelIR

/// Calibration inputs read in batches from `.npy` / `.npz` files or a directory of them,
/// streaming: only one batch (plus file headers) is in memory at a time, and iterating again
/// re-reads from disk, so calibration sets larger than memory work.
///
/// - `.npy`: one array for the model's single input; axis 0 is the sample axis.
/// - `.npz` (stored, as `np.savez` writes): one member per model input, named like it; all
///   members have the same number of samples.
/// - directory: its `.npy`/`.npz` files in name order, each as above.
///
/// Batches are `batchSize` samples (the last one of each file may be smaller).
public struct CalibrationData: Sequence, Sendable {
    public let url: URL
    public let inputNames: [String]
    public let batchSize: Int
    let files: [URL]

    public init(url: URL, inputNames: [String], batchSize: Int) throws {
        guard batchSize > 0 else {
            throw QuantizerError.calibrationData(path: url.path, detail: "batch size \(batchSize) must be positive")
        }
        guard !inputNames.isEmpty else {
            throw QuantizerError.calibrationData(path: url.path, detail: "the model has no inputs to feed")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw QuantizerError.calibrationData(path: url.path, detail: "does not exist")
        }
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            files = names.filter { $0.hasSuffix(".npy") || $0.hasSuffix(".npz") }.sorted().map { url.appendingPathComponent($0) }
            guard !files.isEmpty else {
                throw QuantizerError.calibrationData(path: url.path, detail: "the directory holds no .npy or .npz files")
            }
        } else {
            files = [url]
        }
        self.url = url
        self.inputNames = inputNames
        self.batchSize = batchSize
    }

    /// The readers for one file: one per model input, all with the same sample count.
    func readers(for file: URL) throws -> [(input: String, reader: NPYRowReader)] {
        if file.pathExtension == "npy" {
            guard inputNames.count == 1 else {
                throw QuantizerError.calibrationData(
                    path: file.path,
                    detail: "a .npy holds one array but the model has inputs \(inputNames); use an .npz with one member per input")
            }
            return [(inputNames[0], try NPYRowReader(url: file, label: file.path))]
        }
        let members = try NPZDirectory.members(of: file)
        var result: [(String, NPYRowReader)] = []
        for name in inputNames {
            guard let offset = members[name] else {
                throw QuantizerError.calibrationData(
                    path: file.path,
                    detail:
                        "no member '\(name)' (members: \(members.keys.sorted().joined(separator: ", "))); name members after the model inputs"
                )
            }
            result.append((name, try NPYRowReader(url: file, offset: offset, label: "\(file.path)/\(name).npy")))
        }
        let counts = Set(result.map(\.1.rows))
        guard counts.count == 1 else {
            throw QuantizerError.calibrationData(
                path: file.path,
                detail: "members have different sample counts \(counts.sorted()); give every input the same number of samples")
        }
        return result
    }

    public func makeIterator() -> Iterator { Iterator(data: self) }

    /// Yields `Result`s so a read error ends iteration with the error instead of trapping.
    public struct Iterator: IteratorProtocol {
        let data: CalibrationData
        var fileIndex = 0
        var row = 0
        var current: [(input: String, reader: NPYRowReader)]?

        public mutating func next() -> Result<[String: Tensor], QuantizerError>? {
            while fileIndex < data.files.count {
                if current == nil {
                    do {
                        current = try data.readers(for: data.files[fileIndex])
                    } catch {
                        fileIndex = data.files.count
                        return .failure(error as? QuantizerError ?? .calibrationData(path: data.url.path, detail: "\(error)"))
                    }
                    row = 0
                }
                guard let readers = current, let rows = readers.first?.reader.rows, row < rows else {
                    current = nil
                    fileIndex += 1
                    continue
                }
                let count = Swift.min(data.batchSize, rows - row)
                var batch: [String: Tensor] = [:]
                do {
                    for (input, reader) in readers { batch[input] = try reader.read(rows: row, count: count) }
                } catch {
                    fileIndex = data.files.count
                    return .failure(error as? QuantizerError ?? .calibrationData(path: data.url.path, detail: "\(error)"))
                }
                row += count
                return .success(batch)
            }
            return nil
        }
    }
}

/// The central directory of a stored zip (`np.savez`): member name → offset of its data.
enum NPZDirectory {
    static func members(of url: URL) throws -> [String: UInt64] {
        func fail(_ d: String) -> QuantizerError { .calibrationData(path: url.path, detail: d) }
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw fail("cannot open: \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let tailLength = Int(Swift.min(size, 65557))
        let tail = try NPYRowReader.read(handle, at: size - UInt64(tailLength), count: tailLength, label: url.path)
        func u16(_ b: [UInt8], _ o: Int) throws -> Int {
            guard o >= 0, o + 2 <= b.count else { throw fail("truncated zip structure") }
            return Int(b[o]) | Int(b[o + 1]) << 8
        }
        func u32(_ b: [UInt8], _ o: Int) throws -> Int {
            let lo = try u16(b, o), hi = try u16(b, o + 2)
            return lo | hi << 16
        }
        guard tail.count >= 22,
            let eocd = stride(from: tail.count - 22, through: 0, by: -1).first(where: {
                tail[$0] == 0x50 && tail[$0 + 1] == 0x4B && tail[$0 + 2] == 0x05 && tail[$0 + 3] == 0x06
            })
        else { throw fail("not a zip archive (no end-of-central-directory record); save with np.savez") }
        let entries = try u16(tail, eocd + 10)
        let cdSize = try u32(tail, eocd + 12), cdOffset = try u32(tail, eocd + 16)
        guard UInt64(cdOffset) + UInt64(cdSize) <= size else { throw fail("corrupt central directory") }
        let cd = try NPYRowReader.read(handle, at: UInt64(cdOffset), count: cdSize, label: url.path)
        var at = 0
        var result: [String: UInt64] = [:]
        for _ in 0..<entries {
            guard try u32(cd, at) == 0x0201_4B50 else { throw fail("corrupt central directory at entry offset \(at)") }
            let method = try u16(cd, at + 10)
            let nameLength = try u16(cd, at + 28), extra = try u16(cd, at + 30), comment = try u16(cd, at + 32)
            let local = try u32(cd, at + 42)
            guard at + 46 + nameLength <= cd.count else { throw fail("truncated central directory") }
            let name = String(decoding: cd[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            at += 46 + nameLength + extra + comment
            guard method == 0 else {
                throw fail("member '\(name)' is compressed (np.savez_compressed); streaming needs stored members: save with np.savez")
            }
            let header = try NPYRowReader.read(handle, at: UInt64(local), count: 30, label: url.path)
            guard try u32(header, 0) == 0x0403_4B50 else { throw fail("corrupt local header for '\(name)'") }
            let nameLen = try u16(header, 26), extraLen = try u16(header, 28)
            let start = UInt64(local + 30 + nameLen + extraLen)
            result[name.hasSuffix(".npy") ? String(name.dropLast(4)) : name] = start
        }
        return result
    }
}
