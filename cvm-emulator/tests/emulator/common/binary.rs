//! Running the `cvm-emulator` binary as a user would, for the tests of its
//! command line: every wait bounded, every served child killed when its
//! test ends, however it ends.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_cvm-emulator");

/// Waits (bounded) for the child to exit; kills it on timeout.
pub fn wait(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A served binary, killed when dropped (a failing test leaves no server).
pub struct Served {
    pub child: Child,
    /// Its endpoint, from the first line it prints.
    pub url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts the binary on a free local port with `args`; returns once it
/// prints its address (or fails with what it printed on stderr).
pub fn serve(args: &[&str]) -> Served {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let Some(url) = line.trim().strip_prefix("listening on ").map(str::to_owned) else {
        let _ = child.kill();
        let mut stderr = String::new();
        child.stderr.take().unwrap().read_to_string(&mut stderr).ok();
        panic!("unexpected first line {line:?}; stderr: {stderr}");
    };
    Served { child, url }
}

/// Stops the server as Ctrl-C would, expecting a clean exit; its stderr
/// (the start-up report and the log).
pub fn stop(mut served: Served) -> String {
    let status = Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = wait(&mut served.child, Duration::from_secs(10));
    let mut stderr = String::new();
    served
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{status}: {stderr}");
    stderr
}

/// Runs the binary (on a free local port) expecting it to refuse to start,
/// without a panic: its stderr. Bounded: a binary that serves instead is
/// killed and the test fails.
pub fn refused(args: &[&str]) -> String {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait(&mut child, Duration::from_secs(20));
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(!status.success(), "{stdout}{stderr}");
    assert!(!stdout.contains("listening"), "served before refusing: {stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}
