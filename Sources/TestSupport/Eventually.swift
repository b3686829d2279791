/// Polls `condition` every `interval` until it holds or `seconds` pass, then answers whether it
/// held. A deadline for work that happens elsewhere (a broker, an agent, another task), not a
/// timing assertion: a slow machine only makes the wait longer.
public func eventually(
    _ seconds: Double, every interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
