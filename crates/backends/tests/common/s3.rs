//! A real S3-compatible server for tests: `moto_server` (PyPI `moto[server]`), started on
//! 127.0.0.1 and a free port, stopped (the spawned child only) on drop.
//!
//! The executable is `$KEFU_MOTO_SERVER` when set, else `moto_server` on `PATH`. When neither
//! exists the test fails with instructions: it is never skipped silently.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The pinned, tested version (see docs: `pip install "moto[server]==5.2.5"`).
pub const MOTO_PIN: &str = "moto[server]==5.2.5";

pub struct MotoServer {
    child: Option<Child>,
    pub port: u16,
    log: PathBuf,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().unwrap().port()
}

/// `$KEFU_MOTO_SERVER`, else `moto_server` found on `PATH`.
pub fn find_moto_server() -> PathBuf {
    if let Some(p) = std::env::var_os("KEFU_MOTO_SERVER").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "KEFU_MOTO_SERVER={} does not exist; install it with `pip install \"{MOTO_PIN}\"` into a venv and point \
             KEFU_MOTO_SERVER at its bin/moto_server",
            p.display()
        );
        return p;
    }
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("moto_server"))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| {
        panic!(
            "the S3 archive tests need a real S3-compatible server: no `moto_server` on PATH and KEFU_MOTO_SERVER is \
             not set. Install it (`python3 -m venv .venv-moto && .venv-moto/bin/pip install \"{MOTO_PIN}\"`) and run \
             with KEFU_MOTO_SERVER=$PWD/.venv-moto/bin/moto_server"
        )
    })
}

impl MotoServer {
    pub fn start() -> Self {
        let exe = find_moto_server();
        let port = free_port();
        let log = std::env::temp_dir().join(format!("kefu-moto-{}-{port}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).unwrap();
        let child = Command::new(&exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let mut s = Self { child: Some(child), port, log };
        s.wait_ready();
        s
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!(
                    "moto_server exited early ({status}):\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "moto_server did not listen on {} within 60 s:\n{}",
            self.port,
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// Sends one plain HTTP/1.1 request (moto does not check signatures); returns the status.
    pub fn request(&self, method: &str, path: &str) -> u16 {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut resp = String::new();
        let _ = s.read_to_string(&mut resp);
        resp.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
    }

    pub fn create_bucket(&self, bucket: &str) {
        let status = self.request("PUT", &format!("/{bucket}"));
        assert_eq!(status, 200, "create bucket {bucket}");
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}
