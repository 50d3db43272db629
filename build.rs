//! Builds the embedded Lua (5.4, or 5.5 with the `lua55` feature) from the `lua-src` crate,
//! links all of it into the executable so plug-ins resolve the Lua C API against us,
//! installs the matching headers (internal ones too) into `3rd/lua/`, and compiles the
//! executable's own C: the shim behind the variadic `skynet_error` and the shared chunks,
//! which use Lua's internal headers.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// The pinned lua-src release; its sources provide the headers we install.
const LUA_SRC_VERSION: &str = "551.1.0";

fn main() {
    let lua55 = env::var_os("CARGO_FEATURE_LUA55").is_some();
    let (version, lib, dir) = if lua55 {
        (lua_src::Lua55, "lua5.5", "lua-5.5")
    } else {
        (lua_src::Lua54, "lua5.4", "lua-5.4")
    };
    let artifacts = lua_src::Build::new().build(version);
    println!("cargo:rustc-link-search=native={}", artifacts.lib_dir().display());
    println!("cargo:rustc-link-lib=static:+whole-archive={lib}");

    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let source = lua_source_dir(dir).unwrap_or_else(|| {
        panic!("cannot find the sources of lua-src {LUA_SRC_VERSION} ({dir}*) in the cargo registry")
    });
    install_headers(&source, &manifest.join("3rd/lua"));
    // The standalone `lua` interpreter (Makefile) links this same library build.
    fs::copy(artifacts.lib_dir().join(format!("lib{lib}.a")), manifest.join("3rd/lua/liblua.a"))
        .expect("copy liblua.a into 3rd/lua");

    cc::Build::new()
        .file("src/ffi/error.c")
        .file("src/ffi/shared_chunk.c")
        .include("include")
        .include(&source)
        .warnings(true)
        .flag("-Werror")
        .cargo_metadata(false)
        .compile("skynet_ffi_c");
    let out = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo:rustc-link-search=native={out}");
    println!("cargo:rustc-link-lib=static:+whole-archive=skynet_ffi_c");

    println!("cargo:rustc-link-lib=dylib=dl");
    println!("cargo:rustc-link-lib=dylib=m");
    println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic");
    println!("cargo:rerun-if-changed=src/ffi/error.c");
    println!("cargo:rerun-if-changed=src/ffi/shared_chunk.c");
    println!("cargo:rerun-if-changed=include");
}

/// Finds `lua-src-<version>/<dir>.<patch>` under the cargo registry sources.
fn lua_source_dir(prefix: &str) -> Option<PathBuf> {
    let home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let crate_dir = format!("lua-src-{LUA_SRC_VERSION}");
    for registry in fs::read_dir(home.join("registry/src")).ok()?.flatten() {
        let root = registry.path().join(&crate_dir);
        for entry in fs::read_dir(&root).into_iter().flatten().flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with(&format!("{prefix}.")) {
                return Some(entry.path());
            }
        }
    }
    None
}

/// Replaces `dest` with every header of the Lua sources, so C code sees the embedded version.
fn install_headers(source: &Path, dest: &Path) {
    let _ = fs::remove_dir_all(dest);
    fs::create_dir_all(dest).expect("create 3rd/lua");
    for entry in fs::read_dir(source).expect("read lua sources").flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "h") {
            fs::copy(&path, dest.join(entry.file_name())).expect("copy lua header");
        }
    }
    let version = source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    fs::write(dest.join("VERSION"), format!("{version}\n")).expect("write 3rd/lua/VERSION");
}
