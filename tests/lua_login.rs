//! snax.loginserver and snax.msgserver: the protocol in detail from a client inside a node
//! (tests/lua/login_protocol.lua, with multilogin off and on), and the login example
//! (examples/login) end to end with examples/login/client.lua on our `lua` interpreter,
//! followed by tests/lua/login_reuse.lua reusing that client's login at the gate.

mod common;

use common::*;
use std::process::Output as ProcessOutput;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn login_protocol() {
    for layout in LAYOUTS {
        let args = format!("{} {} {}", free_port(), free_port(), free_port());
        let out = lua_test("login_protocol", &args, layout, "", LIMIT);
        // the master and its pool of `instance = 3` slaves
        let launched = out.lines().into_iter().filter(|l| l.contains("LAUNCH snlua login_server")).count();
        assert_eq!(launched, 4, "one master and three slaves\n{out}");
        let launched = out.lines().into_iter().filter(|l| l.contains("LAUNCH snlua login_multi")).count();
        assert_eq!(launched, 3, "the multilogin master and its two slaves\n{out}");
        assert!(out.contains("User slow is already login"), "the 406 case was reported\n{out}");
    }
}

/// examples/login/config with the given ports for the login server and the gate, and the
/// harbor settings of `layout`. The node runs in the crate root, as the config expects.
fn example_config(layout: Layout, login_port: u16, gate_port: u16) -> String {
    let path = root().join("examples").join("login").join("config");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("can't read {}: {e}", path.display()));
    let mut out = String::new();
    for l in text.lines() {
        let key = l.split('=').next().unwrap_or("").trim();
        let replaced = match key {
            "start" => format!("start = \"main {login_port} {gate_port}\""),
            "thread" => "thread = 4".to_string(),
            "harbor" if layout == Layout::Standalone => {
                let master = format!("127.0.0.1:{}", free_port());
                format!(
                    "harbor = 1\nstandalone = {m}\nmaster = {m}\naddress = {a}",
                    m = lua_str(&master),
                    a = lua_str(&format!("127.0.0.1:{}", free_port()))
                )
            }
            _ => l.to_string(),
        };
        out.push_str(&replaced);
        out.push('\n');
    }
    out
}

/// Runs examples/login/client.lua against the node, guarded by LIMIT.
fn run_client(args: &[&str]) -> ProcessOutput {
    run_lua_script("examples/login/client.lua", args, LIMIT)
}


fn text(out: &ProcessOutput) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn login_example_end_to_end() {
    for layout in LAYOUTS {
        let (login_port, gate_port) = (free_port(), free_port());
        let mut node = start_node(&example_config(layout, login_port, gate_port));
        node.wait_for_line("login example ready", LIMIT);
        let (lp, gp) = (login_port.to_string(), gate_port.to_string());

        // login, a request lost to a disconnect, then a reconnect with the next index
        // that gets the lost answer replayed ("fake" is never run) and a new one
        let first = run_client(&["127.0.0.1", &lp, &gp]);
        let said = text(&first);
        assert!(first.status.success(), "client.lua failed\n{said}");
        let lines: Vec<&str> = said.lines().collect();
        assert!(lines.contains(&"200 MQ=="), "login answer with subid 1\n{said}");
        assert_eq!(lines.iter().filter(|l| **l == "200 OK").count(), 2, "two gate handshakes\n{said}");
        assert!(lines.contains(&"<===\ttrue\techo\t0"), "the lost response was replayed\n{said}");
        assert!(lines.contains(&"<===\ttrue\tagain\t1"), "the new request was answered\n{said}");
        assert!(!said.contains("fake\t0\n<==="), "the replayed session ran again\n{said}");
        node.wait_for_line("hello is login", LIMIT);

        // That login's handshake reused (refused), the next index, and a wrong secret.
        let after = |prefix: &str| {
            lines
                .iter()
                .find_map(|l| l.strip_prefix(prefix))
                .map(str::trim)
                .unwrap_or_else(|| panic!("no {prefix:?} line\n{said}"))
                .to_string()
        };
        let (secret, subid) = (after("secret is"), after("login ok, subid="));
        let root_s = root().display().to_string();
        let reuse = run_lua_script("tests/lua/login_reuse.lua", &[&root_s, &gp, "hello", &subid, &secret, "2"], LIMIT);
        let told = text(&reuse);
        assert!(reuse.status.success() && told.lines().any(|l| l == "TEST login_reuse PASS"), "login_reuse.lua\n{told}");

        // The same user again: the login server kicks the first session out.
        let second = run_client(&["127.0.0.1", &lp, &gp]);
        let said = text(&second);
        assert!(second.status.success(), "second client.lua failed\n{said}");
        assert!(said.lines().any(|l| l == "200 Mg=="), "second login gets subid 2\n{said}");
        node.wait_for_line("hello@sample is logout", LIMIT);

        // A wrong password.
        let wrong = run_client(&["127.0.0.1", &lp, &gp, "hello", "nope"]);
        let said = text(&wrong);
        assert!(!wrong.status.success(), "client.lua succeeded with a wrong password\n{said}");
        assert!(said.lines().any(|l| l == "401 Unauthorized"), "401 for a wrong password\n{said}");
        node.wait_for_line("Invalid password", LIMIT);

        node.kill();
        let out = node.wait(LIMIT);
        assert_eq!(out.lines().into_iter().filter(|l| l.contains("LAUNCH snlua logind")).count(), 9, "master and 8 slaves\n{out}");
        // No Lua error other than the refused password.
        let ours = ["examples/login/", "snax/loginserver.lua", "snax/msgserver.lua", "snax/gateserver.lua"];
        let raised: Vec<&str> = out
            .lines()
            .into_iter()
            .filter(|l| l.contains(".lua:") && !l.contains("Invalid password") && ours.iter().any(|f| l.contains(f)))
            .collect();
        assert!(raised.is_empty(), "errors in the example node:\n{}\n\n{out}", raised.join("\n"));
    }
}
