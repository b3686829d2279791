import Foundation

// The agent service arrives with issue #6; until then this executable says so and exits with
// EX_UNAVAILABLE rather than pretend to run.
FileHandle.standardError.write(Data("flotilla-agent: the device agent is not built yet (issue #6)\n".utf8))
exit(69)
