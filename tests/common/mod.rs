//! The harness every integration test uses: builds C test services, runs `skynet` with a
//! config written into a temp dir, and reads what the node printed.
//!
//! Limits passed here only guard against hangs: a node that outlives its limit is killed
//! and the test fails showing everything it printed so far. Nothing here sleeps to wait for
//! an event; waits are on process exit or on an output line arriving.

#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The crate root (where `skynet`, `cservice/`, `include/` live).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The skynet executable cargo built for this test run.
pub fn skynet_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_skynet"))
}

/// Where `c_service` puts the test modules (the second `cpath` entry of every node).
pub fn testsvc_dir() -> PathBuf {
    root().join("target").join("testsvc")
}

/// Compiles `tests/c/<name>.c` into `target/testsvc/<name>.so` (once per test process) and
/// returns the path. Panics with the compiler's output if it does not build.
pub fn c_service(name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(|| Mutex::new(HashMap::new()));
    // Holding the lock while compiling makes concurrent tests wait for one build.
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let src = root().join("tests").join("c").join(format!("{name}.c"));
    let dir = testsvc_dir();
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("can't create {}: {e}", dir.display()));
    let out = dir.join(format!("{name}.so"));
    // Another test binary may be loading the old file right now: build aside, then rename.
    let tmp = dir.join(format!(".{name}.{}.so", std::process::id()));
    let args = cc_args(&["-O2", "-g", "-Wall", "-Werror", "-fPIC", "-shared"], &src, &tmp);
    let result =
        Command::new("cc").args(&args).current_dir(root()).output().unwrap_or_else(|e| panic!("can't run cc: {e}"));
    if !result.status.success() {
        let _ = std::fs::remove_file(&tmp);
        panic!(
            "compiling {} failed ({}):\ncc {}\n{}{}",
            src.display(),
            result.status,
            args.join(" "),
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        );
    }
    std::fs::rename(&tmp, &out).unwrap_or_else(|e| panic!("can't move {} into place: {e}", out.display()));
    built.insert(name.to_string(), out.clone());
    out
}

/// The `cc` arguments that build `src` into `out` with `flags`, against `include/` and the
/// Lua headers only.
pub fn cc_args(flags: &[&str], src: &Path, out: &Path) -> Vec<String> {
    let mut args: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
    args.push(format!("-I{}", root().join("include").display()));
    args.push(format!("-I{}", root().join("3rd").join("lua").display()));
    args.push("-o".into());
    args.push(out.display().to_string());
    args.push(src.display().to_string());
    args
}

/// `s` as a Lua string literal.
pub fn lua_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The default cpath: the built C services, then the test modules.
pub fn default_cpath() -> String {
    format!("{}/cservice/?.so;{}/?.so", root().display(), testsvc_dir().display())
}

/// What a finished node printed, and how it ended. It keeps the node's temp dir (and the
/// files the node wrote there) until it is dropped.
pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    node: Option<Node>,
}

impl Output {
    /// The node's temp dir (None for `run_skynet`).
    pub fn dir(&self) -> Option<&Path> {
        self.node.as_ref().map(Node::dir)
    }

    /// stdout then stderr, for searching lines wherever the core sent them.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Every output line (stdout first, then stderr).
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().chain(self.stderr.lines()).collect()
    }

    /// True if some line of stdout or stderr contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.lines().iter().any(|l| l.contains(needle))
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit status: {}\n----- stdout -----\n{}\n----- stderr -----\n{}\n------------------",
            self.status, self.stdout, self.stderr
        )
    }
}

impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Asserts that a line `TEST <name> PASS` was printed and that no line reports a failure
/// (`TEST ... FAIL`). Shows all the output otherwise.
pub fn assert_passed(out: &Output, name: &str) {
    let failures: Vec<&str> = out.lines().into_iter().filter(|l| l.contains("TEST") && l.contains("FAIL")).collect();
    assert!(failures.is_empty(), "test {name} reported failures:\n{}\n\n{out}", failures.join("\n"));
    let pass = format!("TEST {name} PASS");
    assert!(out.contains(&pass), "no \"{pass}\" line\n\n{out}");
}

/// Asserts that the node exited normally with status 0.
pub fn assert_success(out: &Output) {
    assert_eq!(out.status.code(), Some(0), "the node did not exit with status 0\n\n{out}");
}

/// A node to run: owns the temp dir its config (and any file the test wants) lives in.
pub struct Node {
    dir: tempfile::TempDir,
}

impl Default for Node {
    fn default() -> Self {
        Self::new()
    }
}

impl Node {
    /// A fresh temp dir for one node.
    pub fn new() -> Node {
        Node { dir: tempfile::Builder::new().prefix("skynet-test").tempdir().expect("can't create a temp dir") }
    }

    /// The node's temp dir (for `logpath`, `logger`, marker files...).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Where the config file goes.
    pub fn config_path(&self) -> PathBuf {
        self.dir().join("config")
    }

    /// Writes `config` (with the default cpath first unless it sets `cpath`) and starts
    /// skynet on it, with the crate root as working directory.
    pub fn start(self, config: &str) -> RunningNode {
        self.start_with_stdin(config, Stdio::null())
    }

    /// `start`, with the node's stdin a pipe the test writes to (`RunningNode::take_stdin`).
    pub fn start_piped(self, config: &str) -> RunningNode {
        self.start_with_stdin(config, Stdio::piped())
    }

    fn start_with_stdin(self, config: &str, stdin: Stdio) -> RunningNode {
        let sets_cpath = config.lines().any(|l| {
            let l = l.trim_start();
            l.strip_prefix("cpath").is_some_and(|rest| rest.trim_start().starts_with('='))
        });
        let text = if sets_cpath {
            config.to_string()
        } else {
            let logger = root().join("cservice").join("logger.so");
            assert!(logger.exists(), "{} is missing: run `make linux` first", logger.display());
            format!("cpath = {}\n{config}", lua_str(&default_cpath()))
        };
        let path = self.config_path();
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("can't write {}: {e}", path.display()));
        let arg = path.into_os_string();
        RunningNode::spawn(Some(self), &[arg.as_os_str()], stdin)
    }

    /// `start`, then waits for the node to exit within `limit`.
    pub fn run(self, config: &str, limit: Duration) -> Output {
        self.start(config).wait(limit)
    }
}

/// Runs a node on `config` until it exits (killed, with a failure, after `limit`).
pub fn run_node(config: &str, limit: Duration) -> Output {
    Node::new().run(config, limit)
}

/// Starts a node on `config`, for tests that interact with it while it runs.
pub fn start_node(config: &str) -> RunningNode {
    Node::new().start(config)
}

/// `start_node` with the node's stdin a pipe (`RunningNode::take_stdin`).
pub fn start_node_piped(config: &str) -> RunningNode {
    Node::new().start_piped(config)
}

/// Runs skynet with raw command-line arguments (no config written) until it exits.
pub fn run_skynet(args: &[&std::ffi::OsStr], limit: Duration) -> Output {
    RunningNode::spawn(None, args, Stdio::null()).wait(limit)
}

/// A running skynet process. Its stdout and stderr are collected in the background and
/// their lines are also streamed to `wait_for_line`. Dropping it kills the process.
pub struct RunningNode {
    child: Child,
    node: Option<Node>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    lines: Receiver<String>,
    readers: Vec<JoinHandle<()>>,
    /// Signalled once the process has exited (it is not reaped yet: see `spawn`).
    exit_rx: Receiver<()>,
    waiter: Option<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

fn reader(
    mut pipe: impl Read + Send + 'static,
    sink: Arc<Mutex<Vec<u8>>>,
    lines: mpsc::Sender<String>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = BufReader::new(&mut pipe);
        let mut line = Vec::new();
        loop {
            line.clear();
            match buf.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    sink.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(&line);
                    let _ = lines.send(String::from_utf8_lossy(&line).trim_end_matches('\n').to_string());
                }
            }
        }
    })
}

impl RunningNode {
    fn spawn(node: Option<Node>, args: &[&std::ffi::OsStr], stdin: Stdio) -> RunningNode {
        let mut child = Command::new(skynet_bin())
            .args(args)
            .current_dir(root())
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("can't start {}: {e}", skynet_bin().display()));
        let pid = child.id();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, lines) = mpsc::channel();
        let readers = vec![
            reader(child.stdout.take().expect("stdout is piped"), stdout.clone(), tx.clone()),
            reader(child.stderr.take().expect("stderr is piped"), stderr.clone(), tx),
        ];
        // The exit is awaited on a thread so that a limit can apply to it. WNOWAIT leaves
        // the child unreaped (a zombie), so its pid stays ours and `Child::kill`/`wait`
        // remain safe and exact.
        let (exit_tx, exit_rx) = mpsc::channel();
        let waiter = std::thread::spawn(move || {
            // SAFETY: a zeroed siginfo_t is a valid out-buffer for waitid.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            loop {
                // SAFETY: waits (without reaping) for our own child; `info` is valid.
                let r =
                    unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT) };
                if r == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                    break;
                }
            }
            let _ = exit_tx.send(());
        });
        RunningNode { child, node, stdout, stderr, lines, readers, exit_rx, waiter: Some(waiter), status: None }
    }

    /// The write end of the node's stdin, once (None unless started piped).
    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.child.stdin.take()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The node's temp dir (None for `run_skynet`).
    pub fn dir(&self) -> Option<&Path> {
        self.node.as_ref().map(Node::dir)
    }

    /// Everything printed so far.
    pub fn output_so_far(&self) -> String {
        let out = String::from_utf8_lossy(&self.stdout.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
        let err = String::from_utf8_lossy(&self.stderr.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
        format!("----- stdout -----\n{out}\n----- stderr -----\n{err}\n------------------")
    }

    /// Waits until a line (stdout or stderr) containing `needle` arrives and returns it.
    /// Panics, killing the node and showing its output, if the node's output ends first
    /// or `limit` passes.
    pub fn wait_for_line(&mut self, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    self.kill();
                    panic!("no line containing {needle:?} within {limit:?}; node killed\n{}", self.output_so_far());
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.reap(Duration::from_secs(10));
                    panic!(
                        "the node closed its output ({}) without a line containing {needle:?}\n{}",
                        status.map_or("still running".to_string(), |s| s.to_string()),
                        self.output_so_far()
                    );
                }
            }
        }
    }

    /// Waits up to `limit` for the process to exit and reaps it.
    fn reap(&mut self, limit: Duration) -> Option<ExitStatus> {
        if self.status.is_none() && self.exit_rx.recv_timeout(limit).is_ok() {
            self.status = self.child.wait().ok();
        }
        self.status
    }

    /// Kills the process (SIGKILL) if it is still running, and reaps it.
    pub fn kill(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
    }

    /// Waits for the node to exit within `limit` and returns its output. A node still
    /// running at the limit is killed and the test fails showing its output.
    pub fn wait(mut self, limit: Duration) -> Output {
        let Some(status) = self.reap(limit) else {
            self.kill();
            panic!("the node did not exit within {limit:?}; killed it\n{}", self.output_so_far());
        };
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        let stdout = String::from_utf8_lossy(&self.stdout.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
        let stderr = String::from_utf8_lossy(&self.stderr.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
        Output { status, stdout, stderr, node: self.node.take() }
    }
}

impl Drop for RunningNode {
    fn drop(&mut self) {
        self.kill();
        if let Some(w) = self.waiter.take() {
            let _ = w.join();
        }
    }
}

/// How a Lua test node is laid out: a single node (`harbor = 0`, cdummy) or `harbor = 1`
/// with this node as the standalone master (cmaster + cslave), as upstream's examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Single,
    Standalone,
}

/// Both layouts, for tests that must hold under each.
pub const LAYOUTS: [Layout; 2] = [Layout::Single, Layout::Standalone];

/// A port free for TCP and UDP on every address, below the kernel's ephemeral range
/// (32768 and up on Linux) so that no outgoing connection takes it before the node binds
/// it, and never handed out twice by this process.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 20000;
    const SPAN: u32 = 12000;
    // Spread processes apart (test binaries normally run one after another anyway);
    // the prime keeps processes with neighbouring pids far from each other's ports.
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = 1 + (std::process::id() as u64 * 7919 % SPAN as u64) as u32;
    let _ = NEXT.compare_exchange(0, start, Ordering::Relaxed, Ordering::Relaxed);
    for _ in 0..SPAN {
        let port = (FIRST + NEXT.fetch_add(1, Ordering::Relaxed) % SPAN) as u16;
        let tcp = std::net::TcpListener::bind(("0.0.0.0", port));
        let udp = std::net::UdpSocket::bind(("0.0.0.0", port));
        if tcp.is_ok() && udp.is_ok() {
            return port;
        }
    }
    panic!("no free port in {FIRST}..{}", FIRST + SPAN);
}

/// A config booting `snlua bootstrap` on our Lua tree with `start` as the main service
/// (searched in `tests/lua/`, then `service/` and `examples/`), plus `extra` lines.
/// Lua test services print `TEST <name> PASS` (see `assert_passed`) and end the node
/// with `skynet.abort()`.
pub fn lua_config(start: &str, layout: Layout, extra: &str) -> String {
    let root = format!("{}/", root().display());
    let harbor = match layout {
        Layout::Single => "harbor = 0\n".to_string(),
        Layout::Standalone => {
            let master = format!("127.0.0.1:{}", free_port());
            format!(
                "harbor = 1\nstandalone = {m}\nmaster = {m}\naddress = {a}\n",
                m = lua_str(&master),
                a = lua_str(&format!("127.0.0.1:{}", free_port()))
            )
        }
    };
    format!(
        "root = {root}\n\
         thread = 4\n\
         {harbor}\
         start = {start}\n\
         bootstrap = \"snlua bootstrap\"\n\
         cpath = {cpath}\n\
         luaservice = root..\"tests/lua/?.lua;\"..root..\"service/?.lua;\"..root..\"examples/?.lua\"\n\
         lualoader = root..\"lualib/loader.lua\"\n\
         lua_path = root..\"lualib/?.lua;\"..root..\"lualib/?/init.lua;\"..root..\"tests/lua/?.lua\"\n\
         lua_cpath = root..\"luaclib/?.so\"\n\
         {extra}\n",
        root = lua_str(&root),
        start = lua_str(start),
        cpath = lua_str(&default_cpath()),
    )
}

/// Runs the Lua test service `tests/lua/<name>.lua` (with `args`) as `start` under
/// `layout`, and checks that it printed `TEST <name> PASS`, no failure, and exited 0.
pub fn lua_test(name: &str, args: &str, layout: Layout, extra: &str, limit: Duration) -> Output {
    let start = if args.is_empty() { name.to_string() } else { format!("{name} {args}") };
    let out = run_node(&lua_config(&start, layout, extra), limit);
    assert_passed(&out, name);
    assert_success(&out);
    out
}

/// The bundled interpreter `3rd/lua/lua`, asserting that `make linux` built it and the
/// C modules client scripts load (`luaclib/client.so`, `luaclib/sproto.so`).
pub fn bundled_lua() -> PathBuf {
    let lua = root().join("3rd").join("lua").join("lua");
    for needed in [lua.clone(), root().join("luaclib").join("client.so"), root().join("luaclib").join("sproto.so")] {
        assert!(needed.exists(), "run `make linux` first: {} is missing", needed.display());
    }
    lua
}

/// Runs `script` (relative to the crate root, which is also the working directory) with
/// `args` on the bundled interpreter, stdin closed; killed and failed after `limit`.
pub fn run_lua_script(script: &str, args: &[&str], limit: Duration) -> std::process::Output {
    let lua = bundled_lua();
    let child = Command::new(&lua)
        .arg(script)
        .args(args)
        .current_dir(root())
        .env_remove("LUA_INIT")
        .env_remove("LUA_INIT_5_4")
        .env_remove("LUA_INIT_5_5")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("can't run {}: {e}", lua.display()));
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.unwrap_or_else(|e| panic!("{script}: {e}")),
        Err(_) => {
            // SAFETY: signals our own child, not reaped yet (its waiter is stuck in wait).
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("{script} did not finish within {limit:?}");
        }
    }
}
