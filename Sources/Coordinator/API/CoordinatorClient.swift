public import Foundation

#if canImport(FoundationNetworking)
    public import FoundationNetworking
#endif

/// The HTTP API from the caller's side (the `flotilla` CLI, scripts, tests): one method per
/// operation, errors that carry the server's own message.
public struct CoordinatorClient: Sendable {
    public let baseURL: URL
    private let token: String
    private let session: URLSession
    /// Seconds a JSON request may take (uploads get an hour).
    public var timeoutSeconds: Double = 60

    public init(baseURL: URL, token: String, session: URLSession = .shared) {
        self.baseURL = baseURL
        self.token = token
        self.session = session
    }

    // MARK: Requests

    func url(_ path: [String], query: [String: String?] = [:]) throws(CoordinatorClientError) -> URL {
        var components = URLComponents(url: baseURL, resolvingAgainstBaseURL: false)
        let base = (components?.percentEncodedPath ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let encoded = path.map { $0.addingPercentEncoding(withAllowedCharacters: Self.segmentCharacters) ?? $0 }
        components?.percentEncodedPath = "/" + ([base].filter { !$0.isEmpty } + encoded).joined(separator: "/")
        let items = query.sorted { $0.key < $1.key }.compactMap { key, value in value.map { URLQueryItem(name: key, value: $0) } }
        components?.queryItems = items.isEmpty ? nil : items
        // '+' in a query value would read as a space on many servers.
        let query = components?.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        components?.percentEncodedQuery = query
        guard let url = components?.url else { throw .invalidURL(baseURL.absoluteString) }
        return url
    }

    static let segmentCharacters = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))

    func request(_ method: String, _ url: URL, contentType: String? = nil) -> URLRequest {
        var request = URLRequest(url: url, timeoutInterval: timeoutSeconds)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        return request
    }

    /// Sends, checks the status, decodes `T`; a non-2xx answer becomes `.server` with the
    /// server's error body.
    func send<T: Decodable>(_ request: URLRequest, body: Data? = nil, as type: T.Type) async throws(CoordinatorClientError) -> T {
        let data = try await perform(request, body: body)
        do { return try APIJSON.decodeResponse(type, from: data) } catch {
            throw .badResponse(url: request.url?.absoluteString ?? "?", status: 200, detail: "cannot decode \(T.self): \(error)")
        }
    }

    func perform(_ request: URLRequest, body: Data? = nil, file: URL? = nil) async throws(CoordinatorClientError) -> Data {
        let urlText = request.url?.absoluteString ?? "?"
        let data: Data
        let response: URLResponse
        do {
            if let file {
                (data, response) = try await session.upload(for: request, fromFile: file)
            } else if let body {
                (data, response) = try await session.upload(for: request, from: body)
            } else {
                (data, response) = try await session.data(for: request)
            }
        } catch {
            throw .transport(url: urlText, detail: error.localizedDescription)
        }
        guard let http = response as? HTTPURLResponse else {
            throw .badResponse(url: urlText, status: 0, detail: "not an HTTP response")
        }
        guard (200..<300).contains(http.statusCode) else {
            if let body = try? APIJSON.decodeResponse(APIErrorBody.self, from: data) {
                throw .server(status: http.statusCode, code: body.error, message: body.message, field: body.field)
            }
            let text = String(decoding: data.prefix(300), as: UTF8.self)
            throw .badResponse(url: urlText, status: http.statusCode, detail: text.isEmpty ? "empty body" : text)
        }
        return data
    }

    func encode(_ value: some Encodable) throws(CoordinatorClientError) -> Data {
        do { return try APIJSON.encode(value) } catch { throw .badResponse(url: baseURL.absoluteString, status: 0, detail: "\(error)") }
    }
}

/// A failed API call.
public enum CoordinatorClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The coordinator answered with an error; `message` is its explanation.
    case server(status: Int, code: String, message: String, field: String?)
    /// No answer: connection refused, timeout, DNS.
    case transport(url: String, detail: String)
    /// An answer that is not what the API sends.
    case badResponse(url: String, status: Int, detail: String)
    case invalidURL(String)
    case file(path: String, detail: String)

    public var description: String {
        switch self {
        case .server(let status, let code, let message, _):
            "coordinator refused (\(status) \(code)): \(message)"
        case .transport(let url, let detail):
            "cannot reach the coordinator at \(url): \(detail); is it running, and is --coordinator (FLOTILLA_COORDINATOR) right?"
        case .badResponse(let url, let status, let detail):
            "unexpected answer from \(url) (HTTP \(status)): \(detail)"
        case .invalidURL(let text):
            "'\(text)' is not a usable coordinator URL; give one like http://127.0.0.1:8480"
        case .file(let path, let detail):
            "cannot read '\(path)': \(detail)"
        }
    }

    /// The HTTP status of a `.server` error.
    public var status: Int? {
        if case .server(let status, _, _, _) = self { return status }
        return nil
    }
}
