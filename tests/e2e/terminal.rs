//! `ax discuss` on a real terminal: a pseudo-terminal made by `script` (util-linux),
//! with what `ax` wrote replayed on a small screen model (line feeds, carriage
//! returns, cursor up, erase line) to see what a person would be left looking at.
//! Skipped where there is no `script`.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{DataDir, recorded_pids, write_fake_providers};

/// The screen left by `output`: one string per row. Other escape sequences (colour)
/// are dropped; nothing wraps.
fn screen(output: &str) -> Vec<String> {
    let mut rows: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = output.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                row += 1;
                if row == rows.len() {
                    rows.push(Vec::new());
                }
            }
            '\x1b' if chars.peek() == Some(&'[') => {
                chars.next();
                let mut params = String::new();
                let mut last = None;
                for c in chars.by_ref() {
                    if ('\x40'..='\x7e').contains(&c) {
                        last = Some(c);
                        break;
                    }
                    params.push(c);
                }
                let n: usize = params.parse().unwrap_or(1);
                match last {
                    Some('A') => row = row.saturating_sub(n.max(1)),
                    Some('K') if params == "2" => rows[row].clear(),
                    _ => {}
                }
            }
            c if c.is_control() => {}
            c => {
                let line = &mut rows[row];
                if line.len() <= col {
                    line.resize(col + 1, ' ');
                }
                line[col] = c;
                col += 1;
            }
        }
    }
    rows.into_iter()
        .map(|r| r.into_iter().collect::<String>().trim_end().to_owned())
        .collect()
}

#[test]
fn the_screen_model_follows_a_redraw() {
    let rows = screen("\x1b[2Ka 1\r\n\x1b[2Kb 1\r\n\x1b[2A\x1b[2Ka 2\r\n\x1b[2Kb 2\r\nend\r\n");
    assert_eq!(rows, ["a 2", "b 2", "end", ""]);
}

/// Issue 8: Ctrl-C on a terminal. The live progress block was redrawn after the
/// "interrupted: …" notice — the cursor went up over the notice, so the notice was
/// overwritten and the block's first lines stood on screen twice. Now the block stops
/// at the interruption: the notice stays, and each call has one progress line.
#[test]
fn ctrl_c_on_a_terminal_leaves_the_notice_visible_and_no_line_twice() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` to make a pseudo-terminal");
        return;
    }
    let data = DataDir::new();
    write_fake_providers(
        &data,
        &[("h1", "hang.sh"), ("h2", "hang.sh"), ("h3", "hang.sh")],
    );
    let command = format!(
        "exec '{}' --data-dir '{}' discuss 'Wait for me' --providers h1,h2,h3 --no-pager",
        crate::helpers::ax_bin(),
        data.path().display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("HOME", data.path().join("home"))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "120")
        .env_remove("AX_DATA_DIR")
        .env_remove("AX_LOG")
        .env_remove("AX_MAX_CONCURRENT_PROVIDER_CALLS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while recorded_pids(data.path()).len() < 6 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        recorded_pids(data.path()).len(),
        6,
        "three fakes, each with a grandchild, are running"
    );
    // Let the block show every call running, then type Ctrl-C on the terminal.
    std::thread::sleep(Duration::from_millis(300));
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"\x03").expect("Ctrl-C typed");
    stdin.flush().expect("flushed");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("script waits") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ax did not stop after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    let output = String::from_utf8_lossy(&reader.join().expect("reader")).into_owned();
    assert_eq!(status.code(), Some(130), "{output}");

    let rows = screen(&output);
    let shown = rows.join("\n");
    assert!(
        rows.iter()
            .any(|r| r.starts_with("interrupted: stopping the providers")),
        "the notice stays on screen:\n{shown}"
    );
    for speaker in ["h1", "h2", "h3"] {
        let lines = rows
            .iter()
            .filter(|r| r.starts_with(&format!("round 1: {speaker} ")))
            .count();
        assert_eq!(
            lines, 1,
            "{speaker} has one progress line on screen:\n{shown}"
        );
    }
    let notice = rows
        .iter()
        .position(|r| r.starts_with("interrupted:"))
        .expect("notice");
    let result = rows
        .iter()
        .position(|r| r.starts_with("Topic:"))
        .expect("the partial result is shown");
    assert!(
        notice < result,
        "the result comes after the notice:\n{shown}"
    );
}
