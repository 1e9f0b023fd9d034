//! A throw-away PostgreSQL server for tests (feature `test-support`), so the tests
//! of this crate — and of any crate that depends on it for tests — run against a
//! real server on a fresh machine, with nothing to set up by hand.
//!
//! Which server:
//! - `AX_TEST_DATABASE_URL` set: that server (a superuser or a role that may create
//!   schemas); nothing is started.
//! - otherwise: one cluster per test process, made with `initdb` (PostgreSQL's
//!   server binaries on `PATH`, or in `/usr/lib/postgresql/*/bin`) in a temporary
//!   directory, on a free port of 127.0.0.1, with password authentication (so the
//!   URLs carry a password, as real deployments' do). `initdb` refuses to run as
//!   root; as root the server runs as the unprivileged user `nobody` (`runuser`).
//! - neither possible: [`TestDatabase::create`] panics with a message saying what
//!   is missing, so the tests FAIL — they are never skipped silently. Only
//!   `AX_SKIP_POSTGRES=1` skips them ([`TestDatabase::create`] returns `None`).
//!
//! Each [`TestDatabase`] is a fresh schema (its URL sets `search_path` to it), so
//! tests running in parallel never see each other's rows.
//!
//! Cleanup: a [`TestCluster`] stops its server (`pg_ctl stop -m immediate`) and
//! deletes its directory when dropped, also when a test panics. The process-wide
//! cluster is never dropped (statics are not); it — and any cluster whose owner
//! was killed — is stopped by a small reaper process that waits for the test
//! process's end (the end of a pipe only the test process holds) and then stops the
//! server and removes the directory.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Use this server instead of starting one.
pub const DATABASE_URL_ENV: &str = "AX_TEST_DATABASE_URL";
/// `1`: skip the PostgreSQL tests explicitly.
pub const SKIP_ENV: &str = "AX_SKIP_POSTGRES";

/// Why a cluster could not be started.
#[derive(Debug, thiserror::Error)]
#[error("cannot start a throw-away PostgreSQL server: {0}")]
pub struct ClusterError(String);

/// A PostgreSQL cluster of its own in a temporary directory, stopped and deleted on
/// drop.
#[derive(Debug)]
pub struct TestCluster {
    dir: PathBuf,
    bin: PathBuf,
    run_as: Option<String>,
    port: u16,
    password: String,
    running: bool,
    /// Holding the write end keeps the reaper waiting; dropping it (or the process
    /// ending) makes it stop the server and delete `dir`.
    reaper: Option<(Child, ChildStdin)>,
}

impl TestCluster {
    /// `initdb` a new cluster and start it. Takes a few seconds.
    pub fn start() -> Result<Self, ClusterError> {
        let bin = find_bin_dir()?;
        let run_as = if is_root() {
            Some("nobody".to_owned())
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("ax-pg-")
            .tempdir()
            .map_err(|e| ClusterError(format!("creating a temporary directory: {e}")))?
            .keep();
        let password = format!("pw{:x}{:x}", std::process::id(), nanos());
        let mut cluster = Self {
            dir,
            bin,
            run_as,
            port: 0,
            password,
            running: false,
            reaper: None,
        };
        cluster.init()?;
        cluster.spawn_reaper()?;
        cluster.start_server()?;
        Ok(cluster)
    }

    /// The superuser URL of database `database` (`postgres` exists from the start).
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/{database}?sslmode=disable",
            self.password, self.port
        )
    }

    /// The superuser's password (to check that no output shows it).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server at once (`-m immediate`: like a crash or a pulled cable;
    /// committed transactions survive, as the WAL is replayed on restart).
    pub fn stop(&mut self) -> Result<(), ClusterError> {
        if self.running {
            self.running = false;
            self.pg_ctl(&["stop", "-m", "immediate", "-w"])?;
        }
        Ok(())
    }

    /// Starts the stopped server again on the same port.
    pub fn restart(&mut self) -> Result<(), ClusterError> {
        if !self.running {
            self.pg_ctl_start(self.port)?;
            self.running = true;
        }
        Ok(())
    }

    /// Turns TLS on: a throw-away CA and a server certificate for `127.0.0.1` and
    /// `localhost`, made with the `openssl` command, then a restart. Returns the
    /// CA's PEM file, for `sslrootcert`.
    pub fn enable_tls(&mut self) -> Result<PathBuf, ClusterError> {
        let tls = self.dir.join("tls");
        std::fs::create_dir_all(&tls)
            .map_err(|e| ClusterError(format!("creating {}: {e}", tls.display())))?;
        std::fs::write(
            tls.join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
        )
        .map_err(|e| ClusterError(format!("writing the certificate extensions: {e}")))?;
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let steps: [&[&str]; 3] = [
            &[
                &["req", "-x509"],
                &ec[..],
                &["-keyout", "ca.key", "-out", "ca.pem"],
                &["-days", "2", "-subj", "/CN=ax test CA"],
            ]
            .concat(),
            &[
                &["req"],
                &ec[..],
                &["-keyout", "server.key", "-out", "server.csr"],
                &["-subj", "/CN=localhost"],
            ]
            .concat(),
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "server.ext",
            ],
        ];
        for args in steps {
            let output = Command::new("openssl")
                .args(args)
                .current_dir(&tls)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| {
                    ClusterError(format!("running openssl (needed for the TLS tests): {e}"))
                })?;
            if !output.status.success() {
                return Err(ClusterError(format!(
                    "openssl {} failed: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&output.stderr)
                )));
            }
        }
        if self.run_as.is_some() {
            let uid = user_id("nobody")?;
            for name in ["", "server.key", "server.pem"] {
                std::os::unix::fs::chown(tls.join(name), Some(uid), None)
                    .map_err(|e| ClusterError(format!("handing {name} to nobody: {e}")))?;
            }
        }
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(self.data().join("postgresql.conf"))
            .map_err(|e| ClusterError(format!("opening postgresql.conf: {e}")))?;
        writeln!(
            conf,
            "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'",
            tls.join("server.pem").display(),
            tls.join("server.key").display()
        )
        .map_err(|e| ClusterError(format!("writing postgresql.conf: {e}")))?;
        self.stop()?;
        self.restart()?;
        Ok(tls.join("ca.pem"))
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// A command running `program` from the server's bin directory as the cluster's
    /// user, in the cluster's directory.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        };
        command.current_dir(&self.dir).stdin(Stdio::null());
        command
    }

    fn init(&self) -> Result<(), ClusterError> {
        let pwfile = self.dir.join("pwfile");
        std::fs::write(&pwfile, format!("{}\n", self.password))
            .map_err(|e| ClusterError(format!("writing the password file: {e}")))?;
        if self.run_as.is_some() {
            let uid = user_id("nobody")?;
            for path in [&self.dir, &pwfile] {
                std::os::unix::fs::chown(path, Some(uid), None).map_err(|e| {
                    ClusterError(format!("handing {} to user nobody: {e}", path.display()))
                })?;
            }
        }
        let output = self
            .command("initdb")
            .arg("-D")
            .arg(self.data())
            .args(["-U", "postgres", "-E", "UTF8", "--locale=C", "-N"])
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .map_err(|e| ClusterError(format!("running initdb: {e}")))?;
        let _ = std::fs::remove_file(&pwfile);
        if !output.status.success() {
            return Err(ClusterError(format!(
                "initdb failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok(())
    }

    /// A free port, then `pg_ctl start`. `fsync=off` only skips flushing the OS's
    /// cache to disk, which matters only if the machine itself crashes; commits
    /// stay synchronous (`synchronous_commit` is on), so a commit acknowledged
    /// before `pg_ctl stop -m immediate` is there after the restart — which the
    /// server-restart tests check. Another process may take the port between
    /// finding it and starting, so a failed start is retried on a new port.
    fn start_server(&mut self) -> Result<(), ClusterError> {
        let mut last = None;
        for _ in 0..5 {
            let port = free_port()?;
            match self.pg_ctl_start(port) {
                Ok(()) => {
                    self.port = port;
                    self.running = true;
                    return Ok(());
                }
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| ClusterError("no attempt made".into())))
    }

    fn pg_ctl_start(&self, port: u16) -> Result<(), ClusterError> {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='{}' \
             -c fsync=off -c full_page_writes=off \
             -c max_connections=300 -c shared_buffers=64MB",
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        let result = self.pg_ctl(&[
            "start",
            "-w",
            "-t",
            "60",
            "-l",
            &log.display().to_string(),
            "-o",
            &options,
        ]);
        result.map_err(|ClusterError(message)| {
            let tail = std::fs::read_to_string(&log)
                .map(|text| {
                    let lines: Vec<&str> = text.lines().collect();
                    lines[lines.len().saturating_sub(10)..].join("\n")
                })
                .unwrap_or_default();
            ClusterError(format!("{message}\nserver log:\n{tail}"))
        })
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<(), ClusterError> {
        let output = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(args)
            .output()
            .map_err(|e| ClusterError(format!("running pg_ctl: {e}")))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(ClusterError(format!(
                "pg_ctl {} failed: {}{}",
                args.first().copied().unwrap_or_default(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )))
        }
    }

    /// The reaper: `sh` waiting for end-of-file on its stdin, whose write end only
    /// this process holds (the standard library opens it close-on-exec, so no child
    /// inherits it). Then it stops the server and deletes the directory.
    fn spawn_reaper(&mut self) -> Result<(), ClusterError> {
        let run_as = match &self.run_as {
            Some(user) => format!("runuser -u {user} -- "),
            None => String::new(),
        };
        let script = format!(
            "cat >/dev/null; {run_as}\"$1\" -D \"$2\" stop -m immediate -w >/dev/null 2>&1; rm -rf \"$3\""
        );
        let mut child = Command::new("sh")
            .args(["-c", &script, "ax-pg-reaper"])
            .arg(self.bin.join("pg_ctl"))
            .arg(self.data())
            .arg(&self.dir)
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| ClusterError(format!("starting the reaper: {e}")))?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| ClusterError("the reaper has no stdin".into()))?;
        self.reaper = Some((child, stdin));
        Ok(())
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((mut child, stdin)) = self.reaper.take() {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`: `PATH` first, then
/// Debian's `/usr/lib/postgresql/<version>/bin` (newest version first).
fn find_bin_dir() -> Result<PathBuf, ClusterError> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    for dir in on_path {
        let initdb = dir.join("initdb");
        if initdb.is_file() {
            // Resolve a symlink (Debian links /usr/local/bin/initdb into the
            // version's bin directory, where pg_ctl finds `postgres` beside it).
            let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
            if let Some(parent) = real.parent() {
                return Ok(parent.to_owned());
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .find(|bin| bin.join("initdb").is_file())
        .ok_or_else(|| {
            ClusterError(format!(
                "initdb not found on PATH nor in /usr/lib/postgresql/*/bin. Install the \
                 PostgreSQL server (Debian: apt-get install postgresql-15), or set \
                 {DATABASE_URL_ENV} to a server to use, or set {SKIP_ENV}=1 to skip these tests"
            ))
        })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn user_id(user: &str) -> Result<u32, ClusterError> {
    let output = Command::new("id")
        .args(["-u", user])
        .output()
        .map_err(|e| ClusterError(format!("looking up user {user}: {e}")))?;
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|_| ClusterError(format!("no user {user} to run the server as")))
}

fn free_port() -> Result<u16, ClusterError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| ClusterError(format!("finding a free port: {e}")))
}

fn nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

/// The server every [`TestDatabase`] of this process lives on.
struct Server {
    /// URL of the database the schemas are made in.
    url: String,
    /// The password in `url`, if any (for tests that check it never shows).
    password: Option<String>,
    /// Whether schemas must be dropped after use (someone else's server).
    external: bool,
    /// The process-wide cluster, if this process started one. Never dropped: the
    /// reaper stops it when the process ends.
    _cluster: Option<TestCluster>,
}

fn server() -> &'static Result<Server, String> {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var(DATABASE_URL_ENV) {
            let password = crate::DatabaseUrl::parse(&url)
                .map_err(|e| format!("{DATABASE_URL_ENV}: {e}"))?
                .driver_config()
                .get_password()
                .map(|p| String::from_utf8_lossy(p).into_owned());
            return Ok(Server {
                url,
                password,
                external: true,
                _cluster: None,
            });
        }
        let cluster = TestCluster::start().map_err(|e| e.to_string())?;
        admin(&cluster.url("postgres"), "CREATE DATABASE ax_test")?;
        Ok(Server {
            url: cluster.url("ax_test"),
            password: Some(cluster.password().to_owned()),
            external: false,
            _cluster: Some(cluster),
        })
    })
}

/// Runs `sql` on `url`, on a runtime of its own (callers may or may not be inside
/// one).
fn admin(url: &str, sql: &str) -> Result<(), String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("building a runtime: {e}"))?;
        runtime.block_on(async {
            let (client, connection) =
                tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .map_err(|e| format!("connecting to the test server: {e}"))?;
            let task = tokio::spawn(connection);
            let result = client.batch_execute(&sql).await.map_err(|e| {
                // The server's own message ("duplicate key value ..."), not just
                // the driver's "db error".
                let detail = e
                    .as_db_error()
                    .map_or_else(|| e.to_string(), ToString::to_string);
                format!("{sql}: {detail}")
            });
            drop(client);
            let _ = task.await;
            result
        })
    })
    .join()
    .map_err(|_| "the admin thread panicked".to_owned())?
}

/// A fresh, empty schema on the test server, with a URL whose `search_path` is that
/// schema. Dropped with the value on an external server; on a throw-away cluster it
/// goes with the cluster.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    schema: String,
    admin_url: String,
    password: Option<String>,
    external: bool,
}

impl TestDatabase {
    /// A fresh schema. `None` only when `AX_SKIP_POSTGRES=1`; panics (failing the
    /// test) when no server can be had, saying why.
    pub fn create() -> Option<Self> {
        if std::env::var(SKIP_ENV).is_ok_and(|v| v == "1") {
            eprintln!("SKIPPED: {SKIP_ENV}=1 — PostgreSQL tests not run");
            return None;
        }
        let server = match server() {
            Ok(server) => server,
            Err(message) => panic!(
                "PostgreSQL tests need a server: {message}\n(set {DATABASE_URL_ENV} to use an \
                 existing one, or {SKIP_ENV}=1 to skip these tests explicitly)"
            ),
        };
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let schema = format!(
            "t{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            nanos() % 1_000_000
        );
        if let Err(message) = admin(&server.url, &format!("CREATE SCHEMA {schema}")) {
            panic!("creating a test schema: {message}");
        }
        let separator = if server.url.contains('?') { '&' } else { '?' };
        Some(Self {
            url: format!("{}{separator}options=-csearch_path%3D{schema}", server.url),
            schema,
            admin_url: server.url.clone(),
            password: server.password.clone(),
            external: server.external,
        })
    }

    /// The URL (with the password) of this schema.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The password in [`Self::url`], if any.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The schema's name.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Runs `sql` (statements separated by `;`) in this schema, as the test
    /// server's administrator — for tests that inspect or tamper with tables.
    pub fn execute(&self, sql: &str) -> Result<(), String> {
        admin(&self.url, sql)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.external {
            let _ = admin(
                &self.admin_url,
                &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema),
            );
        }
    }
}

/// Writes `line` to stdout and flushes (for child processes reporting to a parent
/// test).
pub fn report(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Waits until `path` exists, polling; `false` after `timeout`.
pub fn wait_for_file(path: &Path, timeout: Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if path.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    path.exists()
}
