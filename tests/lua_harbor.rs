//! Multi-node harbor (reference §6): cmaster, cslave, skynet.harbor and the C harbor,
//! with two real nodes on loopback, and global names on one node under both layouts.

mod common;

use std::time::Duration;

use common::*;

/// Guards against hangs only.
const LIMIT: Duration = Duration::from_secs(60);

/// Configs for two nodes on loopback: node 1 is the standalone master and harbor 1, node 2
/// is harbor 2 with node 1 as its master.
fn two_node_configs(start1: &str, start2: &str) -> (String, String) {
    let master = lua_str(&format!("127.0.0.1:{}", free_port()));
    let address = || lua_str(&format!("127.0.0.1:{}", free_port()));
    let node1_extra = format!("harbor = 1\nstandalone = {master}\nmaster = {master}\naddress = {}", address());
    let node2_extra = format!("harbor = 2\nmaster = {master}\naddress = {}", address());
    // The Single layout writes `harbor = 0`; the extra lines come later and override it.
    (lua_config(start1, Layout::Single, &node1_extra), lua_config(start2, Layout::Single, &node2_extra))
}

/// Global names, remote send and call both ways and uniqueservice(true) are checked by the
/// Lua services; then node 2 is killed while node 1 waits on a call to it.
#[test]
fn two_nodes() {
    let (config1, config2) = two_node_configs("harbor_node1", "harbor_node2");
    let mut node1 = start_node(&config1);
    node1.wait_for_line("harbor_node1 waiting for node 2", LIMIT);

    let mut node2 = start_node(&config2);
    node2.wait_for_line("harbor_node2 hanging", LIMIT);
    node2.kill();

    let out = node1.wait(LIMIT);
    assert_passed(&out, "harbor_node1");
    assert_success(&out);
    assert!(out.contains("Harbor 2 (fd="), "the master saw harbor 2\n{out}");
}

/// A second slave claiming a harbor id that is in use is refused by the master, and the
/// refused node stops instead of running half-connected.
#[test]
fn duplicate_harbor_id_is_refused() {
    let (config1, _) = two_node_configs("harbor_idle", "harbor_idle");
    let mut node1 = start_node(&config1);
    node1.wait_for_line("harbor_idle running", LIMIT);

    // Node 1's config with its master part removed: a second harbor 1 joining it.
    let twin_config: String =
        config1.lines().filter(|l| !l.starts_with("standalone") && !l.starts_with("address")).collect::<Vec<_>>().join("\n");
    let twin_config = format!("{twin_config}\naddress = {}\n", lua_str(&format!("127.0.0.1:{}", free_port())));
    let twin = run_node(&twin_config, LIMIT);
    assert!(!twin.contains("harbor_idle running"), "the refused node started its services\n{twin}");
    node1.wait_for_line("Slave 1 already register on", LIMIT);
}

/// A channel owned by node 1 with subscribers on both nodes; both nodes publish on it.
#[test]
fn multicast_two_nodes() {
    let (config1, config2) = two_node_configs("multicast_node1", "multicast_node2");
    let mut node1 = start_node(&config1);
    node1.wait_for_line("multicast_node1 waiting for node 2", LIMIT);
    let mut node2 = start_node(&config2);
    let out = node1.wait(LIMIT);
    node2.kill();
    let out2 = node2.wait(LIMIT);
    assert_passed(&out, "multicast_node1");
    assert_success(&out);
    assert!(!out2.contains("FAIL"), "node 2 reported a failure\n{out2}");
}

/// Global names, late queries and uniqueservice(true) on a single node, with cdummy and
/// with a standalone cmaster + cslave.
#[test]
fn global_names_on_one_node() {
    for layout in LAYOUTS {
        lua_test("harbor_names", "", layout, "", LIMIT);
    }
}
