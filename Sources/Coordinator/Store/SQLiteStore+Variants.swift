import GRDB

extension SQLiteStore {
    public func putVariant(_ variant: VariantRecord) throws(StoreError) {
        let key = "\(variant.modelName) \(variant.modelVersion) \(variant.hardwareClass)"
        try Self.nonEmpty(variant.hardwareClass, "hardwareClass of variant \(key)")
        try Self.nonEmpty(variant.artifactDigest, "artifactDigest of variant \(key)")
        try Self.checkRelativePath(variant.artifactPath, key: key)
        try Self.checkJSON(variant.reportJSON, "report of variant \(key)")
        let metrics = try Self.encodeJSON(variant.metrics, "metrics of variant \(key)")
        let sizes = (
            try Self.int64(variant.uncompressedSize, "uncompressedSize"), try Self.int64(variant.compressedSize, "compressedSize"),
            try Self.int64(variant.chunkSize, "chunkSize", minimum: 1)
        )
        try write("store variant \(key)") { db in
            let release = try Bool.fetchOne(
                db, sql: "SELECT 1 FROM releases WHERE name = ? AND version = ?", arguments: [variant.modelName, variant.modelVersion])
            guard release != nil else { throw StoreError.notFound(kind: "release", key: "\(variant.modelName) \(variant.modelVersion)") }
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO variants (modelName, modelVersion, hardwareClass, artifactDigest, artifactPath,
                        uncompressedSize, uncompressedSHA256, compressedSize, compressedSHA256, chunkSize, report, metrics)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    variant.modelName, variant.modelVersion, variant.hardwareClass, variant.artifactDigest, variant.artifactPath,
                    sizes.0, variant.uncompressedSHA256, sizes.1, variant.compressedSHA256, sizes.2, variant.reportJSON, metrics,
                ])
        }
    }

    public func variants(name: String, version: String) throws(StoreError) -> [VariantRecord] {
        try read("list variants of \(name) \(version)") { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM variants WHERE modelName = ? AND modelVersion = ? ORDER BY hardwareClass",
                arguments: [name, version]
            ).map(Self.variantRecord)
        }
    }

    public func variant(name: String, version: String, hardwareClass: String) throws(StoreError) -> VariantRecord? {
        try read("read variant \(name) \(version) \(hardwareClass)") { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM variants WHERE modelName = ? AND modelVersion = ? AND hardwareClass = ?",
                arguments: [name, version, hardwareClass]
            ).map(Self.variantRecord)
        }
    }

    /// The same artifact can serve two classes whose profiles build identical bytes; then the
    /// first by (model, version, class) is returned.
    public func variant(artifactDigest: String) throws(StoreError) -> VariantRecord? {
        try read("find the variant of artifact \(artifactDigest)") { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM variants WHERE artifactDigest = ? ORDER BY modelName, modelVersion, hardwareClass LIMIT 1",
                arguments: [artifactDigest]
            ).map(Self.variantRecord)
        }
    }

    /// Artifact paths are relative to the data directory and stay inside it.
    static func checkRelativePath(_ path: String, key: String) throws(StoreError) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.hasPrefix("/"), !parts.contains(where: { $0 == ".." || $0.isEmpty }) else {
            throw .invalid(
                field: "artifactPath of variant \(key)",
                detail: "'\(path)' must be relative to the data directory, without '..' or empty components (e.g. artifacts/<digest>.zst)")
        }
    }

    static func variantRecord(_ row: Row) throws(StoreError) -> VariantRecord {
        let name: String = try column(row, "modelName", kind: "variant", key: "?")
        let version: String = try column(row, "modelVersion", kind: "variant", key: name)
        let hardwareClass: String = try column(row, "hardwareClass", kind: "variant", key: name)
        let key = "\(name) \(version) \(hardwareClass)"
        func col<T: DatabaseValueConvertible>(_ c: String) throws(StoreError) -> T { try column(row, c, kind: "variant", key: key) }
        let metricsText: String = try col("metrics")
        return VariantRecord(
            modelName: name, modelVersion: version, hardwareClass: hardwareClass, artifactDigest: try col("artifactDigest"),
            artifactPath: try col("artifactPath"), uncompressedSize: try col("uncompressedSize"),
            uncompressedSHA256: try col("uncompressedSHA256"), compressedSize: try col("compressedSize"),
            compressedSHA256: try col("compressedSHA256"), chunkSize: try col("chunkSize"), reportJSON: try col("report"),
            metrics: try decodeJSON([String: Double].self, metricsText, kind: "variant metrics", key: key))
    }
}
