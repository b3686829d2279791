/// The first schema. Released: never edit it; change the schema with a new migration.
///
/// Integers that are `UInt64` in Swift are stored as SQLite INTEGER (signed 64-bit): the store
/// refuses values above Int64.max instead of wrapping them. JSON columns hold text that
/// decodes with the record's Codable types; times are Unix milliseconds.
enum StoreSchemaV1 {
    static let sql = """
        CREATE TABLE devices (
            id TEXT PRIMARY KEY NOT NULL,
            hardwareClass TEXT NOT NULL,
            agentVersion TEXT,
            labels TEXT NOT NULL DEFAULT '{}',
            runningModelName TEXT,
            runningModelVersion TEXT,
            runningReleaseSequence INTEGER,
            runningArtifactDigest TEXT,
            runningSlot TEXT,
            runningStatus TEXT,
            phase TEXT,
            pendingReleaseSequence INTEGER,
            acceptedDesiredSequence INTEGER,
            online INTEGER NOT NULL DEFAULT 0,
            connectionSequence INTEGER,
            firstSeenMs INTEGER NOT NULL,
            lastSeenMs INTEGER NOT NULL,
            lastStateSequence INTEGER,
            lastReportedAtMs INTEGER,
            lastRollback TEXT
        );
        CREATE INDEX devices_by_class ON devices(hardwareClass);
        CREATE INDEX devices_by_running_digest ON devices(runningArtifactDigest);

        CREATE TABLE model_sequences (
            name TEXT PRIMARY KEY NOT NULL,
            lastSequence INTEGER NOT NULL
        );

        CREATE TABLE releases (
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            releaseSequence INTEGER NOT NULL,
            createdBy TEXT NOT NULL,
            createdAtMs INTEGER NOT NULL,
            sourceSHA256 TEXT NOT NULL,
            options TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('building', 'ready', 'failed')),
            error TEXT,
            PRIMARY KEY (name, version),
            UNIQUE (name, releaseSequence)
        );

        CREATE TABLE variants (
            modelName TEXT NOT NULL,
            modelVersion TEXT NOT NULL,
            hardwareClass TEXT NOT NULL,
            artifactDigest TEXT NOT NULL,
            artifactPath TEXT NOT NULL,
            uncompressedSize INTEGER NOT NULL,
            uncompressedSHA256 TEXT NOT NULL,
            compressedSize INTEGER NOT NULL,
            compressedSHA256 TEXT NOT NULL,
            chunkSize INTEGER NOT NULL,
            report TEXT NOT NULL,
            metrics TEXT NOT NULL,
            PRIMARY KEY (modelName, modelVersion, hardwareClass),
            FOREIGN KEY (modelName, modelVersion) REFERENCES releases(name, version) ON DELETE CASCADE
        );
        CREATE INDEX variants_by_digest ON variants(artifactDigest);

        CREATE TABLE rollouts (
            id TEXT PRIMARY KEY NOT NULL,
            modelName TEXT NOT NULL,
            modelVersion TEXT NOT NULL,
            releaseSequence INTEGER NOT NULL,
            spec TEXT NOT NULL,
            state TEXT NOT NULL,
            status TEXT NOT NULL,
            createdBy TEXT NOT NULL,
            createdAtMs INTEGER NOT NULL,
            updatedAtMs INTEGER NOT NULL,
            revision INTEGER NOT NULL,
            FOREIGN KEY (modelName, modelVersion) REFERENCES releases(name, version)
        );
        CREATE INDEX rollouts_by_status ON rollouts(status);
        CREATE INDEX rollouts_by_created ON rollouts(createdAtMs);

        CREATE TABLE desired_states (
            deviceID TEXT PRIMARY KEY NOT NULL,
            allocatedSequence INTEGER NOT NULL,
            sequence INTEGER,
            payload BLOB,
            rolloutID TEXT,
            releaseSequence INTEGER,
            issuedAtMs INTEGER
        );
        CREATE INDEX desired_states_by_rollout ON desired_states(rolloutID);

        CREATE TABLE telemetry_buckets (
            artifactDigest TEXT NOT NULL,
            hardwareClass TEXT NOT NULL,
            bucketStartMs INTEGER NOT NULL,
            bucketWidthMs INTEGER NOT NULL CHECK (bucketWidthMs > 0),
            histogram TEXT NOT NULL,
            inferences INTEGER NOT NULL,
            errors INTEGER NOT NULL,
            accuracySum REAL NOT NULL,
            accuracyCount INTEGER NOT NULL,
            agreementSum REAL NOT NULL,
            agreementCount INTEGER NOT NULL,
            summaries INTEGER NOT NULL,
            rssMaxBytes INTEGER NOT NULL,
            PRIMARY KEY (artifactDigest, hardwareClass, bucketStartMs)
        );
        CREATE INDEX telemetry_buckets_by_end ON telemetry_buckets(bucketStartMs + bucketWidthMs);

        CREATE TABLE telemetry_bucket_devices (
            artifactDigest TEXT NOT NULL,
            hardwareClass TEXT NOT NULL,
            bucketStartMs INTEGER NOT NULL,
            deviceID TEXT NOT NULL,
            lastSequence INTEGER NOT NULL,
            PRIMARY KEY (artifactDigest, hardwareClass, bucketStartMs, deviceID),
            FOREIGN KEY (artifactDigest, hardwareClass, bucketStartMs)
                REFERENCES telemetry_buckets(artifactDigest, hardwareClass, bucketStartMs) ON DELETE CASCADE
        );

        CREATE TABLE telemetry_retention (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            deletedBeforeMs INTEGER NOT NULL
        );

        CREATE TABLE device_events (
            deviceID TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            atMs INTEGER NOT NULL,
            kind TEXT NOT NULL,
            releaseSequence INTEGER,
            artifactDigest TEXT,
            reason TEXT,
            PRIMARY KEY (deviceID, sequence)
        );
        CREATE INDEX device_events_by_time ON device_events(atMs);

        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            atMs INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        CREATE INDEX audit_log_by_time ON audit_log(atMs);

        CREATE TABLE leases (
            name TEXT PRIMARY KEY NOT NULL,
            holder TEXT NOT NULL,
            expiresAtMs INTEGER NOT NULL
        );
        """
}
