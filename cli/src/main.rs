fn main() -> std::process::ExitCode {
    tencentcloud_cli::main(std::env::args_os().skip(1).collect())
}
