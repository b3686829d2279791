import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Waits for one of the signals (ignored by default disposition so they do not kill us first).
public enum Signals {
    public static func wait(for signals: [Int32]) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let once = SignalOnce(c)
            for s in signals {
                signal(s, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: s, queue: .global())
                source.setEventHandler { once.fire() }
                source.resume()
                once.keep(source)
            }
        }
    }
}

final class SignalOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Void, Never>?
    private var sources: [any DispatchSourceSignal] = []
    init(_ c: CheckedContinuation<Void, Never>) { continuation = c }
    func keep(_ s: any DispatchSourceSignal) { lock.withLock { sources.append(s) } }
    func fire() {
        let c = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            defer { continuation = nil }
            return continuation
        }
        c?.resume()
    }
}
