//! MCP server benchmarks (filled in below).
fn main() {}
