//! `ax agent import` and `ax agent export --out` as files meet them: `-q` leaves only
//! the problems (on stderr), and an export never replaces a file by surprise.

use std::path::Path;

use serde_json::Value;

use crate::helpers::{DataDir, assert_exit, text};

fn write(path: &Path, body: &str) {
    std::fs::write(path, body).expect("write");
}

/// Issue 8: `-q` did not quiet `ax agent import` (the whole report went to stdout).
/// With `-q`, text mode prints nothing but the problems, on stderr; `--format json`
/// still prints its one document.
#[test]
fn quiet_import_prints_only_the_problems_on_stderr() {
    let data = DataDir::new();
    let dir = data.path().join("import");
    std::fs::create_dir(&dir).expect("mkdir");
    write(
        &dir.join("a.json"),
        r#"{"agentId": "qa", "description": "QA"}"#,
    );

    let out = data.run(&["-q", "agent", "import", dir.to_str().expect("utf-8")]);
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout), "", "nothing on stdout");
    assert_eq!(text(&out.stderr), "", "nothing went wrong");

    write(
        &dir.join("b.json"),
        r#"{"agentId": "bad id", "description": "x"}"#,
    );
    let out = data.run(&["agent", "import", "--quiet", dir.to_str().expect("utf-8")]);
    assert_exit(&out, 5);
    assert_eq!(text(&out.stdout), "", "nothing on stdout");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("invalid 1") && stderr.contains("b.json (bad id)"),
        "the invalid file is named on stderr:\n{stderr}"
    );
    assert!(
        !stderr.contains("skipped") && !stderr.contains("imported"),
        "and nothing else:\n{stderr}"
    );

    std::fs::remove_file(dir.join("b.json")).expect("rm");
    let out = data.run(&[
        "-q",
        "agent",
        "import",
        dir.to_str().expect("utf-8"),
        "--on-conflict",
        "fail",
    ]);
    assert_exit(&out, 4);
    assert_eq!(text(&out.stdout), "");
    assert!(
        text(&out.stderr).contains("agent \"qa\" already exists"),
        "the conflict is on stderr: {}",
        text(&out.stderr)
    );

    let (exit, report) = data.json(&["-q", "agent", "import", dir.to_str().expect("utf-8")]);
    assert_eq!(exit, 0);
    assert_eq!(
        report["skipped"],
        serde_json::json!(["qa"]),
        "JSON is the result"
    );

    // Without -q the report is on stdout as before.
    let out = data.run(&["agent", "import", dir.to_str().expect("utf-8")]);
    assert!(text(&out.stdout).contains("skipped (already registered) 1: qa"));

    // `export --out` said `exported N agent(s) to PATH` on stderr even with -q.
    let file = data.path().join("export.json");
    let out = data.run(&[
        "-q",
        "agent",
        "export",
        "--out",
        file.to_str().expect("utf-8"),
    ]);
    assert_exit(&out, 0);
    assert_eq!(text(&out.stderr), "", "-q: no confirmation");
    assert_eq!(text(&out.stdout), "");
    assert!(file.exists());
}

/// Issue 8: `ax agent export --out` silently replaced an existing file — the data
/// directory's own database included.
#[test]
fn export_refuses_to_overwrite_unless_forced_and_never_the_data_directory() {
    let data = DataDir::new();
    let file = data.path().join("home").join("agents.json");
    std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
    let file_arg = file.to_str().expect("utf-8");

    let out = data.run(&["agent", "export", "--out", file_arg]);
    assert_exit(&out, 0);
    assert!(
        text(&out.stderr).contains("exported "),
        "{}",
        text(&out.stderr)
    );
    let exported: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("written")).expect("json");
    assert!(exported["agents"].as_array().is_some_and(|a| !a.is_empty()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777;
        assert_ne!(mode & 0o400, 0, "a new export is readable: {mode:o}");
    }

    // An existing file: refused (exit 4), named, and --force suggested; left as it was.
    write(&file, "keep me");
    let out = data.run(&["agent", "export", "--out", file_arg]);
    assert_exit(&out, 4);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(file_arg) && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "keep me");
    let (exit, err) = data.json(&["agent", "export", "--out", file_arg]);
    assert_eq!(exit, 4);
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("--force"))
    );

    // --force replaces it and keeps its permission bits.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    }
    let out = data.run(&["agent", "export", "--out", file_arg, "--force"]);
    assert_exit(&out, 0);
    assert!(
        text(&out.stderr).contains("exported "),
        "{}",
        text(&out.stderr)
    );
    assert!(
        std::fs::read_to_string(&file)
            .expect("read")
            .contains("\"agents\"")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "the replaced file's permissions are kept");
    }
    let leftovers: Vec<_> = std::fs::read_dir(file.parent().expect("dir"))
        .expect("list")
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != "agents.json")
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary file left: {leftovers:?}"
    );

    // The data directory's own files: never, not even with --force.
    std::fs::write(data.path().join("config.toml"), "# mine\n").expect("config");
    for own in ["data.db", "data.db-wal", "data.db-shm", "config.toml"] {
        let path = data.path().join(own);
        let out = data.run(&[
            "agent",
            "export",
            "--out",
            path.to_str().expect("utf-8"),
            "--force",
        ]);
        assert_exit(&out, 2);
        assert!(text(&out.stderr).contains(own), "{}", text(&out.stderr));
    }
    // (SQLite itself may checkpoint data.db when `ax` closes it: compare what ax would
    // have replaced — the config's text, the database's inode.)
    assert_eq!(
        std::fs::read_to_string(data.path().join("config.toml")).expect("config"),
        "# mine\n"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let inode = || std::fs::metadata(data.db_path()).expect("db").ino();
        let before = inode();
        let out = data.run(&[
            "agent",
            "export",
            "--out",
            data.db_path().to_str().expect("utf-8"),
            "--force",
        ]);
        assert_exit(&out, 2);
        assert_eq!(inode(), before, "data.db is the same file");
    }
    #[cfg(unix)]
    {
        let link = data.path().join("home").join("db-link");
        std::os::unix::fs::symlink(data.db_path(), &link).expect("symlink");
        let out = data.run(&[
            "agent",
            "export",
            "--out",
            link.to_str().expect("utf-8"),
            "--force",
        ]);
        assert_exit(&out, 2);
    }
    assert_exit(&data.run(&["agent", "list"]), 0);

    // Not a regular file: refused even with --force.
    let dir = data.path().join("home");
    let out = data.run(&[
        "agent",
        "export",
        "--out",
        dir.to_str().expect("utf-8"),
        "--force",
    ]);
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr).contains("directory"),
        "{}",
        text(&out.stderr)
    );
    #[cfg(unix)]
    {
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        if made {
            let out = data.run(&[
                "agent",
                "export",
                "--out",
                fifo.to_str().expect("utf-8"),
                "--force",
            ]);
            assert_exit(&out, 2);
        }
        let out = data.run(&["agent", "export", "--out", "/dev/null", "--force"]);
        assert_exit(&out, 2);
    }
}

/// Issue 9: `ax agent import DIR` followed a symbolic link to any file (a link to a
/// secrets file was read, and its lines echoed in errors), and skipped FIFOs and link
/// loops without a word. Now a link is followed only to a file inside DIR, and every
/// entry left unread is named on stderr and in the JSON report.
#[cfg(unix)]
#[test]
fn import_never_reads_outside_the_folder_and_names_every_skipped_file() {
    use std::os::unix::fs::symlink;
    let data = DataDir::new();
    let dir = data.path().join("import");
    std::fs::create_dir(&dir).expect("mkdir");
    let secret = data.path().join("secret.yaml");
    write(
        &secret,
        "agentId: stolen\ndescription: TOP-SECRET-TOKEN-4711\n",
    );
    let broken_secret = data.path().join("secret.json");
    write(&broken_secret, "{TOP-SECRET-TOKEN-4711");
    symlink(&secret, dir.join("creds.yaml")).expect("symlink");
    symlink(&broken_secret, dir.join("creds.json")).expect("symlink");
    symlink("../secret.yaml", dir.join("relative.yml")).expect("symlink");
    symlink("loop.json", dir.join("loop.json")).expect("symlink");
    symlink("nowhere.json", dir.join("dangling.json")).expect("symlink");
    let fifo = dir.join("pipe.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "mkfifo");
    write(
        &dir.join("good.json"),
        r#"{"agentId": "good", "description": "x"}"#,
    );
    // A link to a file inside the folder is fine.
    write(
        &dir.join("real.txt"),
        r#"{"agentId": "aliased", "description": "x"}"#,
    );
    symlink("real.txt", dir.join("alias.json")).expect("symlink");

    let out = data.run(&["agent", "import", dir.to_str().expect("utf-8")]);
    assert_exit(&out, 0);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        !stdout.contains("TOP-SECRET") && !stderr.contains("TOP-SECRET"),
        "nothing of a file outside the folder is shown:\n{stdout}\n{stderr}"
    );
    for (name, why) in [
        ("creds.yaml", "outside"),
        ("creds.json", "outside"),
        ("relative.yml", "outside"),
        ("loop.json", "loop"),
        ("dangling.json", "dangling"),
        ("pipe.json", "FIFO"),
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains("skipped") && l.contains(name) && l.contains(why)),
            "{name} is named as skipped ({why}):\n{stderr}"
        );
    }
    assert!(stdout.contains("imported 2: aliased, good"), "{stdout}");
    assert_exit(&data.run(&["agent", "get", "stolen"]), 3);

    // The JSON report lists them too.
    write(
        &dir.join("good.json"),
        r#"{"agentId": "good2", "description": "x"}"#,
    );
    let (exit, report) = data.json(&["agent", "import", dir.to_str().expect("utf-8")]);
    assert_eq!(exit, 0, "{report}");
    let skipped = report["skippedFiles"].as_array().expect("skippedFiles");
    assert_eq!(skipped.len(), 6, "{report}");
    assert!(!report.to_string().contains("TOP-SECRET"));
}

/// Issue 9: one unparseable file aborted a whole directory at the first problem, and
/// `--on-conflict fail` kept the profiles imported before the conflict. Now an import
/// is all or nothing: every problem is reported and nothing is written;
/// `--continue-on-error` writes the valid ones as before.
#[test]
fn import_is_all_or_nothing_unless_continue_on_error() {
    let data = DataDir::new();
    let dir = data.path().join("import");
    std::fs::create_dir(&dir).expect("mkdir");
    write(
        &dir.join("a.json"),
        r#"{"agentId": "alpha", "description": "x"}"#,
    );
    write(&dir.join("b.json"), "{ this is not json");
    write(&dir.join("c.yaml"), "agentId: bad id\ndescription: x\n");
    write(&dir.join("d.yaml"), "agentId: delta\ndescription: x\n");
    let dir_arg = dir.to_str().expect("utf-8");

    let (exit, report) = data.json(&["agent", "import", dir_arg]);
    assert_eq!(exit, 5, "{report}");
    assert_eq!(report["aborted"], true, "{report}");
    assert_eq!(report["imported"], serde_json::json!([]));
    let sources: Vec<&str> = report["invalid"]
        .as_array()
        .expect("invalid")
        .iter()
        .filter_map(|i| i["source"].as_str())
        .collect();
    assert!(
        sources.iter().any(|s| s.ends_with("b.json"))
            && sources.iter().any(|s| s.ends_with("c.yaml")),
        "every problem is reported: {report}"
    );
    assert_exit(&data.run(&["agent", "get", "alpha"]), 3);
    assert_exit(&data.run(&["agent", "get", "delta"]), 3);
    let out = data.run(&["agent", "import", dir_arg]);
    assert_exit(&out, 5);
    assert!(
        text(&out.stderr).contains("no agent was written"),
        "{}",
        text(&out.stderr)
    );

    let (exit, report) = data.json(&["agent", "import", dir_arg, "--continue-on-error"]);
    assert_eq!(exit, 5, "{report}");
    assert_eq!(report["imported"], serde_json::json!(["alpha", "delta"]));
    assert_eq!(report["invalid"].as_array().map(Vec::len), Some(2));

    // --on-conflict fail: a taken id anywhere and nothing is written.
    std::fs::remove_file(dir.join("b.json")).expect("rm");
    std::fs::remove_file(dir.join("c.yaml")).expect("rm");
    write(
        &dir.join("0-new.json"),
        r#"{"agentId": "zulu", "description": "x"}"#,
    );
    let (exit, report) = data.json(&["agent", "import", dir_arg, "--on-conflict", "fail"]);
    assert_eq!(exit, 4, "{report}");
    assert_eq!(report["conflict"], "alpha");
    assert_exit(&data.run(&["agent", "get", "zulu"]), 3);
    let out = data.run(&[
        "agent",
        "import",
        dir_arg,
        "--on-conflict",
        "fail",
        "--continue-on-error",
    ]);
    assert_exit(&out, 4);
    assert_exit(&data.run(&["agent", "get", "zulu"]), 0);
}
