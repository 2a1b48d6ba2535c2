fn main() -> std::process::ExitCode {
    refit::cli::run()
}
