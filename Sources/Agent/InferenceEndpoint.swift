import Foundation
public import ModelIR
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Serves `AgentService.infer` on a Unix socket: one thread accepts, one thread per client
/// reads request frames and answers each in turn (docs/agent.md, "Local inference socket").
public final class InferenceEndpoint: Sendable {
    public let path: String
    private let listener: Int32
    private let stopped = StopFlag()

    public init(path: String, agent: AgentService) throws(AgentError) {
        self.path = path
        listener = try UnixSocket.listen(path)
        chmod(path, 0o660)
        let listener = self.listener
        let thread = Thread { [stopped] in
            while !stopped.isSet {
                let client = accept(listener, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    return
                }
                Thread.detachNewThread { Self.serve(client, agent: agent) }
            }
        }
        thread.start()
    }

    public func close() {
        stopped.set()
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
        unlink(path)
    }

    static func serve(_ fd: Int32, agent: AgentService) {
        defer { Glibc.close(fd) }
        while true {
            let request: [UInt8]
            do {
                guard let frame = try UnixSocket.readFrame(fd) else { return }
                request = frame
            } catch { return }
            let response: [UInt8]
            do {
                let inputs = try InferenceWire.decodeTensors(request)
                let outputs = try Self.blocking { try await agent.infer(inputs) }
                response = [0] + (try InferenceWire.encodeTensors(outputs))
            } catch {
                response = [1] + Array("\(error)".utf8)
            }
            do { try UnixSocket.writeFrame(fd, response) } catch { return }
        }
    }

    /// Runs an async call from this plain thread (never a cooperative-pool thread).
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let box = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let r: Result<T, any Error>
            do { r = .success(try await body()) } catch { r = .failure(error) }
            box.withLock { $0 = r }
            done.signal()
        }
        done.wait()
        guard let result = box.withLock({ $0 }) else { throw AgentError.inferenceFailed(detail: "the agent gave no result") }
        return try result.get()
    }

    /// The client side: one request, one response.
    public static func request(socket path: String, inputs: [String: Tensor]) throws -> [String: Tensor] {
        let fd = try UnixSocket.connect(path)
        defer { Glibc.close(fd) }
        try UnixSocket.writeFrame(fd, try InferenceWire.encodeTensors(inputs))
        guard let response = try UnixSocket.readFrame(fd), let status = response.first else {
            throw AgentError.inferenceFailed(detail: "the agent at '\(path)' closed the connection without answering")
        }
        let body = Array(response.dropFirst())
        guard status == 0 else { throw AgentError.inferenceFailed(detail: String(decoding: body, as: UTF8.self)) }
        return try InferenceWire.decodeTensors(body)
    }
}

/// Set once by `close`, read by the accept thread.
private final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}
