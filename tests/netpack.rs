//! `skynet.netpack` and `skynet.socketdriver` (lualib-src/lua-netpack.c, lua-socket.c):
//! the framing and buffer functions on hand-made messages, and real TCP/UDP traffic from
//! a Python client, both on the bare socketdriver and through snax.gateserver.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

/// Guards against hangs only; every test normally ends in a few seconds.
const LIMIT: Duration = Duration::from_secs(60);

/// Talks to `tests/lua/sockdrv_tcp.lua` (args: tcp port, udp port): a UDP echo, then line
/// commands over TCP exercising every send form, then `bye`, after which the server closes.
const SOCKDRV_CLIENT: &str = r#"
import socket, sys
port, uport = int(sys.argv[1]), int(sys.argv[2])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(30)
u.sendto(b"ping", ("127.0.0.1", uport))
data, _ = u.recvfrom(100)
assert data == b"ack:ping", data
s = socket.create_connection(("127.0.0.1", port), timeout=30)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
f = s.makefile("rb")
def expect(want):
    got = f.readline()
    assert got == want, (got[:60], want[:60])
for piece in [b"ec", b"ho hel", b"lo\r", b"\n"]:
    s.sendall(piece)
expect(b"echo:hello\r\n")
for cmd, want in [(b"low a", b"low:a"), (b"ptr b", b"ptr:b"), (b"echo c", b"echo:c"), (b"info", b"info:ok")]:
    s.sendall(cmd + b"\r\n")
    expect(want + b"\r\n")
s.sendall(b"big 1000000\r\n")
expect(b"z" * 1000000 + b"\r\n")
s.sendall(b"bye\r\n")
expect(b"bye\r\n")
assert f.read() == b"", "the server closes"
print("client done")
"#;

/// Talks to `tests/lua/netpack_gate.lua` (arg: port): six 2-byte-framed packages, sent
/// several per write, with a split header and in 1000-byte pieces; each comes back reversed.
const GATE_CLIENT: &str = r#"
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
f = s.makefile("rb")
def frame(b):
    return struct.pack(">H", len(b)) + b
def expect(want):
    size = f.read(2)
    assert len(size) == 2, "connection closed"
    got = f.read(struct.unpack(">H", size)[0])
    assert got == want[::-1], (got[:40], want[:40])
several = [b"a", b"bc", b"", b"def"]
s.sendall(b"".join(frame(b) for b in several))
for b in several:
    expect(b)
s.sendall(b"\x00")
s.sendall(b"\x03xyz")
expect(b"xyz")
big = bytes(range(256)) * 255
wire = frame(big)
for i in range(0, len(wire), 1000):
    s.sendall(wire[i:i + 1000])
expect(big)
s.close()
print("client done")
"#;

/// Runs a Python client script with `args`; it must exit 0 and print "client done".
fn python(script: &str, args: &[String]) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("can't run python3: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("client done"),
        "python client failed ({}):\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn netpack_filter_framing_and_events() {
    // Partial, several, empty and largest packages; close/error forget partials;
    // open/init/warning shapes; clear; pack limits.
    lua_test("netpack_filter", "", Layout::Single, "", LIMIT);
}

#[test]
fn socketdriver_buffer_functions() {
    // push/pop/readline (separators across blocks)/readall/clear/header, unpack,
    // udp_address, resolve, info.
    lua_test("sockdrv_buffer", "", Layout::Single, "", LIMIT);
}

#[test]
fn socketdriver_tcp_and_udp_with_python() {
    let (port, uport) = (free_port(), free_port());
    let mut node = start_node(&lua_config(&format!("sockdrv_tcp {port} {uport}"), Layout::Single, ""));
    node.wait_for_line("SOCKDRV READY", LIMIT);
    python(SOCKDRV_CLIENT, &[port.to_string(), uport.to_string()]);
    let out = node.wait(LIMIT);
    assert_passed(&out, "sockdrv_tcp");
    assert_success(&out);
}

#[test]
fn gateserver_framing_with_python() {
    // Under both layouts: the standalone one also runs cmaster/cslave with our harbor.
    for layout in LAYOUTS {
        let mut node = start_node(&lua_config("netpack_gate", layout, ""));
        let line = node.wait_for_line("NETPACK GATE PORT", LIMIT);
        let port = line.rsplit(' ').next().unwrap_or_default().trim().to_string();
        assert!(port.parse::<u16>().is_ok(), "no port in {line:?}");
        python(GATE_CLIENT, &[port]);
        let out = node.wait(LIMIT);
        assert_passed(&out, "netpack_gate");
        assert_success(&out);
    }
}
