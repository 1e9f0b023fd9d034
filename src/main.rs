//! The `ax` binary. All behaviour lives in `crates/cli`; this entry point exists in the
//! root package so the end-to-end tests in `tests/` can run the real binary.

fn main() -> std::process::ExitCode {
    ax_cli::main()
}
