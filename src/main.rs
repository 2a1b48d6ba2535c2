fn main() -> std::process::ExitCode {
    // A closed pipe (`refit rules | head`) ends refit quietly, as it ends
    // `cat` and `grep`, instead of a panic on the next `println!`.
    #[cfg(unix)]
    // SAFETY: restores the default action of one signal before any thread
    // starts; nothing else in the process has set a handler for it.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    refit::cli::run()
}
