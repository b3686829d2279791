public import Foundation
import Glibc

/// The per-device part of the broker's ACL file (deploy/mosquitto/acl.conf).
///
/// The shipped file's `pattern` rules give every device its own device topics (`%u` = its
/// certificate CN). What a pattern cannot say is the device's hardware class, so each device
/// gets a `user` block that lets it read its class's artifact chunks and cancels; provisioning
/// appends it and the operator reloads Mosquitto (SIGHUP). Why not the dynamic-security
/// plugin: docs/security.md, "Why an ACL file".
public enum BrokerACL {
    /// The block for one device, ending in a newline.
    public static func deviceEntry(deviceID: String, hardwareClass: String) -> String {
        """
        # device \(deviceID), class \(hardwareClass) (flotilla device provision)
        user \(deviceID)
        \(deviceTopicLines(hardwareClass: hardwareClass).joined(separator: "\n"))

        """
    }

    static func deviceTopicLines(hardwareClass: String) -> [String] {
        ["topic read flotilla/v1/artifacts/\(hardwareClass)/+/chunks", "topic read flotilla/v1/artifacts/\(hardwareClass)/+/cancel"]
    }

    /// Appends the device's block to `file` unless it is there already. Returns false when the
    /// same block was present (running provisioning again is harmless); throws
    /// `.aclConflict` when the file grants this user other topics, e.g. another class.
    @discardableResult
    public static func append(deviceID: String, hardwareClass: String, to file: URL) throws(PKIError) -> Bool {
        try FleetIdentity.validateDevice(deviceID)
        try FleetIdentity.validateClass(hardwareClass)
        let fd = open(file.path, O_RDWR | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else {
            throw .io(
                path: file.path, operation: "open ACL file",
                detail: "\(String(cString: strerror(errno))); point --acl at the broker's acl.conf (deploy/mosquitto/acl.conf)")
        }
        defer { close(fd) }
        // Two provisioning runs at once must not interleave their blocks.
        guard flock(fd, LOCK_EX) == 0 else { throw .io(path: file.path, operation: "lock", detail: String(cString: strerror(errno))) }
        let text = try PKIFiles.read(file)
        let expected = deviceTopicLines(hardwareClass: hardwareClass)
        if let existing = topics(of: deviceID, in: text) {
            guard existing == expected else {
                throw .aclConflict(
                    path: file.path, user: deviceID,
                    detail:
                        "it grants \(existing.joined(separator: "; ")), not class \(hardwareClass); if the device moved class, delete its block from the file, then provision again"
                )
            }
            return false
        }
        let separator = text.isEmpty || text.hasSuffix("\n") ? "" : "\n"
        let bytes = Array((separator + deviceEntry(deviceID: deviceID, hardwareClass: hardwareClass)).utf8)
        let written = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw .io(path: file.path, operation: "append to", detail: String(cString: strerror(errno)))
        }
        return true
    }

    /// The `topic` lines of `user`'s block(s), or nil when the file has no block for it.
    /// Mosquitto applies `topic` lines to the latest `user` line above them.
    static func topics(of user: String, in text: String) -> [String]? {
        var current: String?
        var found: [String]?
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("user ") {
                current = String(line.dropFirst(5)).trimmingCharacters(in: .whitespaces)
                if current == user, found == nil { found = [] }
            } else if line.hasPrefix("topic "), current == user {
                found?.append(line.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " "))
            }
        }
        return found
    }
}

// At file scope `write` is the C function.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
