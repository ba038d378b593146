#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `kefu chat --json`: one reply object per line, typed errors, bad lines do not end the session.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn an_invalid_utf8_line_gets_an_error_and_the_conversation_goes_on() {
    let shop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/bots/shop");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kefu"))
        .args(["chat", "--json", shop.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kefu chat");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all("我要退货\n".as_bytes()).unwrap();
    stdin.write_all(b"\xff\xfe broken\n").unwrap();
    stdin.write_all(format!("{}\n", "x".repeat(10_001)).as_bytes()).unwrap();
    stdin.write_all(b"SO123456\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0]["flow"], "returns");
    assert_eq!(lines[1]["error"]["code"], "invalid_input");
    assert_eq!(lines[2]["error"]["code"], "input_too_large");
    assert_eq!(lines[3]["slots"]["order_id"], "SO123456", "{}", lines[3]);
}
