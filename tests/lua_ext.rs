//! Lua C modules built by others for stock Lua 5.4 (Debian's lua-cjson and lua-lpeg,
//! installed by `.ci/run`) load into a service and work.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;

/// Where Debian installs Lua 5.4 C modules.
const DEBIAN_LUA54: &str = "/usr/lib/x86_64-linux-gnu/lua/5.4";

#[test]
#[cfg_attr(feature = "lua55", ignore = "Debian's modules are built for Lua 5.4")]
fn debian_cjson_and_lpeg() {
    for m in ["cjson.so", "lpeg.so"] {
        let path = Path::new(DEBIAN_LUA54).join(m);
        assert!(path.exists(), "{} is missing: apt-get install lua-cjson lua-lpeg (.ci/run does)", path.display());
    }
    let extra = format!("lua_cpath = root..\"luaclib/?.so;{DEBIAN_LUA54}/?.so\"");
    for layout in LAYOUTS {
        lua_test("ext_cjson", "", layout, &extra, Duration::from_secs(60));
    }
}
