// Agent: the device daemon as a Service — persisted update state machine, slots, validation,
// rollback, telemetry, local inference endpoint. Being built under issue #6.
