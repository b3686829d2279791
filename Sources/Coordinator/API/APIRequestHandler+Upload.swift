import FlyingFox
import Foundation
import ModelArtifact

extension APIRequestHandler {
    /// `POST /v1/uploads?kind=K&fileName=F`: the raw body is streamed to a file (never held
    /// whole in memory), hashed, checked against an optional `X-Content-SHA256`, and handed to
    /// `registerUpload`. The temporary file is removed whatever happens.
    func receiveUpload(_ request: HTTPRequest, body: APIBodyReader, actor: String) async throws -> APIUpload {
        let q = try APIQueryParameters(request.query, allowed: ["kind", "fileName"])
        let kindText = try q.required("kind")
        guard let kind = APIUploadKind(rawValue: kindText) else {
            throw APIError.invalidRequest(
                field: "kind", "is '\(kindText)'; expected one of \(APIUploadKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let fileName = try Self.baseName(q.string("fileName") ?? kind.rawValue)
        let expected = request.headers[HTTPHeader("X-Content-SHA256")]?.lowercased()
        if let expected, expected.count != 64 || !expected.allSatisfy(\.isHexDigit) {
            throw APIError.invalidRequest(field: "X-Content-SHA256", "is not 64 hex digits")
        }

        let directory = config.uploadDirectory
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw APIError(.internal, "cannot create the upload directory '\(directory.path)': \(error.localizedDescription)")
        }
        let temporary = directory.appendingPathComponent("incoming-\(UUID().uuidString).part")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw APIError(.internal, "cannot create '\(temporary.path)'; check that the coordinator may write to its data directory")
        }
        defer { try? FileManager.default.removeItem(at: temporary) }

        let size: Int
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            size = try await body.stream(to: handle, limit: config.maxUploadBytes, what: "upload")
            try handle.synchronize()
        }
        let digest: String
        do { digest = try ArtifactTransport.sha256(fileAt: temporary).sha256 } catch {
            throw APIError(.internal, "cannot hash the upload '\(temporary.path)': \(error)")
        }
        if let expected, expected != digest {
            throw APIError.invalidRequest(
                field: "X-Content-SHA256",
                "is \(expected) but the \(size) bytes received hash to \(digest); the upload was damaged, send it again")
        }
        logger.info("API \(actor): upload \(kind.rawValue) '\(fileName)', \(size) bytes, sha256 \(digest)")
        let received = APIReceivedUpload(kind: kind, fileName: fileName, temporaryPath: temporary, size: size, sha256: digest)
        return try await operations.registerUpload(received, actor: actor)
    }

    /// The last path component, refusing names that could not be a file's.
    static func baseName(_ name: String) throws(APIError) -> String {
        let base = name.split(separator: "/").last.map(String.init) ?? ""
        guard !base.isEmpty, base != ".", base != "..", base.count <= 255, !base.contains("\0") else {
            throw APIError.invalidRequest(field: "fileName", "'\(name)' is not a usable file name")
        }
        return base
    }
}
