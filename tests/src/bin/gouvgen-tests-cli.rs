//! The gouvgen CLI, built inside this test crate so tests run the current code.
fn main() -> std::process::ExitCode {
    gouvgen_cli::main()
}
