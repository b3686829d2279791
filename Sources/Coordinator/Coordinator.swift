// Coordinator: registry (SQLite), per-class builds, rollout engine with telemetry gates, HTTP API.
// Being built under issue #7.
