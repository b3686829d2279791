import Agent
import FleetPKI
import Foundation
import XCTest

/// The two halves of putting a device in service meet: a bundle made by the provisioning code
/// (tarball and directory) installed by deploy/install-agent.sh into a staged root leaves every
/// file the agent config names in place, with the key private.
final class ProvisionedBundleInstallTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-bundle-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Runs install-agent.sh with a stand-in agent binary (the script only copies it).
    func install(bundle: URL, root: URL) throws -> (status: Int32, output: String) {
        let bin = scratch.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let agent = bin.appendingPathComponent("flotilla-agent")
        if !FileManager.default.fileExists(atPath: agent.path) {
            try "#!/bin/sh\nexit 0\n".write(to: agent, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: agent.path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [
            Self.repository.appendingPathComponent("deploy/install-agent.sh").path, "--bundle", bundle.path, "--bin", bin.path,
            "--root", root.path,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func mode(_ url: URL) throws -> Int {
        try XCTUnwrap(FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int)
    }

    func assertInstalled(_ device: ProvisionedDevice, in root: URL, output: String, file: StaticString = #filePath, line: UInt = #line)
        throws
    {
        let installed = root.appendingPathComponent("etc/flotilla/agent.json")
        XCTAssertEqual(try Data(contentsOf: installed), try Data(contentsOf: device.agentConfig), output, file: file, line: line)
        let config = try JSONDecoder().decode(AgentConfigFile.self, from: Data(contentsOf: installed))
        var named = config.pinnedKeyFiles
        if let tls = config.tls { named += [tls.caFile] + [tls.certFile, tls.keyFile].compactMap { $0 } }
        XCTAssertFalse(config.pinnedKeyFiles.isEmpty, file: file, line: line)
        for path in named {
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: root.path + path), "\(path) named by agent.json is not installed\n\(output)",
                file: file,
                line: line)
        }
        let key = try XCTUnwrap(config.tls?.keyFile)
        XCTAssertEqual(try mode(URL(fileURLWithPath: root.path + key)), 0o600, file: file, line: line)
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: root.path + key)), try Data(contentsOf: try XCTUnwrap(device.key)), file: file,
            line: line)
        XCTAssertFalse(output.contains("warning"), output, file: file, line: line)
    }

    func testTheProvisionedTarballAndDirectoryInstallEveryFileTheConfigNames() throws {
        let fixture = try PKIFixture(root: scratch.appendingPathComponent("pki"))
        let device = try fixture.provision("edge-0100", hardwareClass: "x86-avx2")

        let fromTarball = scratch.appendingPathComponent("root-tarball")
        try FileManager.default.createDirectory(at: fromTarball, withIntermediateDirectories: true)
        let first = try install(bundle: device.tarball, root: fromTarball)
        XCTAssertEqual(first.status, 0, first.output)
        try assertInstalled(device, in: fromTarball, output: first.output)

        let fromDirectory = scratch.appendingPathComponent("root-directory")
        try FileManager.default.createDirectory(at: fromDirectory, withIntermediateDirectories: true)
        let second = try install(bundle: device.directory, root: fromDirectory)
        XCTAssertEqual(second.status, 0, second.output)
        try assertInstalled(device, in: fromDirectory, output: second.output)
    }
}
