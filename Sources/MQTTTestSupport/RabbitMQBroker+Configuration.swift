import Foundation

/// The node's files and environment, all inside its private directory.
extension RabbitMQBroker {
    /// Writes rabbitmq.conf, enabled_plugins, an empty rabbitmq-env.conf (so
    /// /etc/rabbitmq/rabbitmq-env.conf is not read) and the Erlang cookie, and returns the
    /// environment the node and epmd run with.
    static func writeFiles(in directory: URL, ports: RabbitMQPorts, nodeName: String, options: Options) throws -> [String: String] {
        let fm = FileManager.default
        let home = directory.appendingPathComponent("home", isDirectory: true)
        let paths = (
            config: directory.appendingPathComponent("rabbitmq.conf"), plugins: directory.appendingPathComponent("enabled_plugins"),
            env: directory.appendingPathComponent("rabbitmq-env.conf"), cookie: home.appendingPathComponent(".erlang.cookie")
        )
        let cookie = String((0..<20).map { _ in "ABCDEFGHIJKLMNOPQRSTUVWXYZ".randomElement() ?? "A" })
        do {
            for sub in ["home", "mnesia", "log"] {
                try fm.createDirectory(at: directory.appendingPathComponent(sub, isDirectory: true), withIntermediateDirectories: true)
            }
            try configuration(ports: ports, options: options).write(to: paths.config, atomically: true, encoding: .utf8)
            try "[rabbitmq_mqtt].\n".write(to: paths.plugins, atomically: true, encoding: .utf8)
            try "".write(to: paths.env, atomically: true, encoding: .utf8)
            try cookie.write(to: paths.cookie, atomically: true, encoding: .utf8)
            // Erlang refuses a cookie file others can read.
            try fm.setAttributes([.posixPermissions: 0o400], ofItemAtPath: paths.cookie.path)
        } catch {
            throw RabbitMQBrokerError(
                .fileSystem, "cannot write the broker's files in \(directory.path): \(error); check that TMPDIR is writable")
        }
        var environment = ProcessInfo.processInfo.environment
        // Under systemd the script would exec the VM with a readiness protocol we do not speak.
        environment.removeValue(forKey: "NOTIFY_SOCKET")
        let settings: [String: String] = [
            "HOME": home.path,
            "ERL_EPMD_PORT": String(ports.epmd),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODENAME": nodeName,
            "RABBITMQ_USE_LONGNAME": "false",
            "RABBITMQ_DIST_PORT": String(ports.distribution),
            "RABBITMQ_MNESIA_BASE": directory.appendingPathComponent("mnesia").path,
            "RABBITMQ_LOG_BASE": directory.appendingPathComponent("log").path,
            "RABBITMQ_LOGS": directory.appendingPathComponent("log/rabbit.log").path,
            "RABBITMQ_CONFIG_FILE": paths.config.path,
            "RABBITMQ_ADVANCED_CONFIG_FILE": directory.appendingPathComponent("advanced.config").path,
            "RABBITMQ_ENABLED_PLUGINS_FILE": paths.plugins.path,
            "RABBITMQ_CONF_ENV_FILE": paths.env.path,
            "RABBITMQ_PID_FILE": directory.appendingPathComponent("rabbit.pid").path,
            // Run the VM in place of the script (no signal-forwarding shell in between), so
            // SIGTERM and SIGKILL reach the node itself; -noinput keeps it from reading stdin.
            // The unused `-flotilla_test_broker <dir>` flag puts the directory name on the VM's
            // command line, where `pkill -f flotilla-test-broker` finds a node left behind by a
            // crashed test run (the node name is not there: the VM sets it after starting).
            "RABBITMQ_ALLOW_INPUT": "true",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS":
                "-noinput -kernel inet_dist_use_interface {127,0,0,1} -flotilla_test_broker \(directory.lastPathComponent)",
        ]
        environment.merge(settings) { _, new in new }
        return environment
    }

    /// rabbitmq.conf: listeners on loopback, the test user, and the MQTT plugin's settings.
    static func configuration(ports: RabbitMQPorts, options: Options) -> String {
        var lines = [
            "listeners.tcp.default = 127.0.0.1:\(ports.amqp)",
            "mqtt.listeners.tcp.default = 127.0.0.1:\(ports.mqtt)",
            "default_user = \(options.username)",
            "default_pass = \(options.password)",
            "mqtt.allow_anonymous = \(options.allowAnonymous)",
            "mqtt.default_user = \(options.username)",
            "mqtt.default_pass = \(options.password)",
            "mqtt.vhost = /",
            "mqtt.exchange = amq.topic",
            // Retained messages in a file per vhost: survive a node restart, like Mosquitto's
            // persistence.
            "mqtt.retained_message_store = rabbit_mqtt_retained_msg_store_dets",
            // A shared CI disk must not trip the free-space alarm, which blocks every publisher.
            "disk_free_limit.absolute = 1MB",
            "log.console = false",
            "log.file.level = info",
        ]
        lines += options.extraConfig
        return lines.joined(separator: "\n") + "\n"
    }
}
