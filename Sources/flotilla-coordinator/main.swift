import Foundation

// The coordinator service arrives with issue #7; until then this executable says so and exits
// with EX_UNAVAILABLE rather than pretend to run.
FileHandle.standardError.write(Data("flotilla-coordinator: the coordinator is not built yet (issue #7)\n".utf8))
exit(69)
