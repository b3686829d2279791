// ModelIR: being written.
