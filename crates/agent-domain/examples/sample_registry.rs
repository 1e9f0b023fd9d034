//! Prints a JSON list of generated typical profiles (the same agent `n` as the
//! benchmarks and the quality test), for `ax agent import -` at any size:
//!
//! ```text
//! cargo run --release -p ax-agent-domain --features sample --example sample_registry -- 0 100000 \
//!     | ax agent import -
//! ```
//!
//! Arguments: the first agent number and how many (default `0 1000`). Written one
//! profile at a time, so a million agents need no more memory than one.

use std::io::{BufWriter, Write};

use ax_agent_domain::sample::typical_profile;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let (first, count) = match (args.next(), args.next()) {
        (None, _) => (0, 1000),
        (Some(Ok(first)), None) => (first, 1000),
        (Some(Ok(first)), Some(Ok(count))) => (first, count),
        _ => {
            eprintln!("usage: sample_registry [FIRST [COUNT]] (two whole numbers)");
            std::process::exit(2);
        }
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    out.write_all(b"[")?;
    for n in first..first + count {
        if n > first {
            out.write_all(b",\n")?;
        }
        let profile = typical_profile(&format!("agent-{n:07}"), n);
        serde_json::to_writer(&mut out, &profile)?;
    }
    out.write_all(b"]\n")?;
    out.flush()
}
