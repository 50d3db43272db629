//! The C ABI (reference §0-§2): what the executable exports, that the public headers
//! and C services build warning-free against `include/` alone, and that every C plug-in's
//! undefined symbols resolve against the executable.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// `nm <flags> <path>` as (symbol type, name without @version, had a version).
fn nm(flags: &[&str], path: &Path) -> Vec<(char, String, bool)> {
    let out = Command::new("nm").args(flags).arg(path).output().unwrap_or_else(|e| panic!("can't run nm: {e}"));
    assert!(
        out.status.success(),
        "nm {} {} failed: {}",
        flags.join(" "),
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (ty, name) = match fields.as_slice() {
                [_, ty, name] | [ty, name] => (ty.chars().next()?, *name),
                _ => return None,
            };
            let versioned = name.contains('@');
            let base = name.split('@').next().unwrap_or(name).to_string();
            Some((ty, base, versioned))
        })
        .collect()
}

/// The dynamic symbols the skynet executable defines.
fn exports() -> BTreeSet<String> {
    let bin = skynet_bin();
    let set: BTreeSet<String> = nm(&["-D", "--defined-only"], &bin).into_iter().map(|(_, n, _)| n).collect();
    assert!(!set.is_empty(), "{} exports nothing: is it linked with --export-dynamic?", bin.display());
    set
}

/// LUA_VERSION_NUM of the Lua headers the build put in 3rd/lua. Lua 5.4 defines it as a
/// number, Lua 5.5 from LUA_VERSION_MAJOR_N and LUA_VERSION_MINOR_N.
fn lua_version() -> u32 {
    let header = root().join("3rd/lua/lua.h");
    let text = std::fs::read_to_string(&header).unwrap_or_else(|e| panic!("can't read {}: {e}", header.display()));
    let define = |name: &str| -> Option<u32> {
        text.lines().find_map(|l| {
            let rest = l.strip_prefix("#define ")?.trim_start().strip_prefix(name)?;
            rest.trim().parse().ok()
        })
    };
    define("LUA_VERSION_NUM")
        .or_else(|| Some(define("LUA_VERSION_MAJOR_N")? * 100 + define("LUA_VERSION_MINOR_N")?))
        .unwrap_or_else(|| panic!("no LUA_VERSION_NUM in {}", header.display()))
}

/// The names declared with LUA_API, LUALIB_API or LUAMOD_API in a Lua header:
/// `LUA_API int (lua_gettop) (lua_State *L);` declares `lua_gettop`.
fn lua_api_names(header: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(header).unwrap_or_else(|e| panic!("can't read {}: {e}", header.display()));
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if !["LUA_API", "LUALIB_API", "LUAMOD_API"].iter().any(|m| line.starts_with(m)) || line.starts_with("#") {
            continue;
        }
        // The first "(identifier)" is the function's name.
        let mut rest = line;
        while let Some(open) = rest.find('(') {
            rest = &rest[open + 1..];
            let ident: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !ident.is_empty() && rest[ident.len()..].starts_with(')') {
                names.push(ident);
                break;
            }
        }
    }
    names
}

fn missing_from(exports: &BTreeSet<String>, wanted: impl IntoIterator<Item = String>) -> Vec<String> {
    wanted.into_iter().filter(|n| !exports.contains(n)).collect()
}

#[test]
fn executable_exports_the_plugin_abi() {
    let exports = exports();
    let list = root().join("tests/c/abi_symbols.txt");
    let wanted: Vec<String> = std::fs::read_to_string(&list)
        .unwrap_or_else(|e| panic!("can't read {}: {e}", list.display()))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    assert!(wanted.len() >= 37, "{} lists only {} symbols", list.display(), wanted.len());
    let mut sample: Vec<&str> =
        vec!["lua_newstate", "luaL_newstate", "luaL_checkversion_", "lua_pcallk", "luaopen_base"];
    if lua_version() >= 505 {
        sample.extend(["luaL_openselectedlibs", "luaL_makeseed"]);
    } else {
        sample.push("luaL_openlibs");
    }
    let mut missing = missing_from(&exports, wanted);
    missing.extend(missing_from(&exports, sample.iter().map(|s| s.to_string())));
    assert!(
        missing.is_empty(),
        "{} does not export these {} symbols that plug-ins need:\n  {}",
        skynet_bin().display(),
        missing.len(),
        missing.join("\n  ")
    );
}

#[test]
fn executable_exports_the_whole_lua_api() {
    let exports = exports();
    let mut declared = Vec::new();
    for h in ["lua.h", "lauxlib.h", "lualib.h"] {
        declared.extend(lua_api_names(&root().join("3rd/lua").join(h)));
    }
    assert!(declared.len() > 120, "found only {} Lua API declarations: is the parser broken?", declared.len());
    // Declared in lualib.h only when the project builds its own code cache (LUA_CACHELIB).
    declared.retain(|n| n != "luaopen_cache" && n != "luaL_initcodecache");
    let missing = missing_from(&exports, declared);
    assert!(
        missing.is_empty(),
        "{} does not export these Lua API functions declared in 3rd/lua:\n  {}",
        skynet_bin().display(),
        missing.join("\n  ")
    );
}

/// Compiles `src` into a shared object in `dir` with `flags`; returns it, or the compiler's
/// complaint.
fn compile(src: &Path, dir: &Path, tag: &str, flags: &[&str]) -> Result<PathBuf, String> {
    let stem = src.file_stem().unwrap().to_string_lossy();
    let out = dir.join(format!("{stem}.{tag}.so"));
    let mut all = vec!["-Wall", "-Werror", "-fPIC", "-shared"];
    all.extend_from_slice(flags);
    let args = cc_args(&all, src, &out);
    let result =
        Command::new("cc").args(&args).current_dir(root()).output().unwrap_or_else(|e| panic!("can't run cc: {e}"));
    if result.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "cc {}\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        ))
    }
}

fn cservice_sources() -> Vec<PathBuf> {
    let mut srcs: Vec<PathBuf> = std::fs::read_dir(root().join("cservice"))
        .expect("no cservice/ directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    srcs.sort();
    assert!(!srcs.is_empty(), "no cservice/*.c");
    srcs
}

#[test]
fn headers_compile_as_gnu99_and_c11() {
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("tests/c/abi_all.c");
    let mut errors = Vec::new();
    for std in ["-std=gnu99", "-std=c11"] {
        if let Err(e) = compile(&src, dir.path(), &std[5..], &[std, "-O2"]) {
            errors.push(e);
        }
    }
    assert!(errors.is_empty(), "tests/c/abi_all.c does not build against include/:\n{}", errors.join("\n"));
}

#[test]
fn cservices_compile_warning_free() {
    let dir = tempfile::tempdir().unwrap();
    let errors: Vec<String> =
        cservice_sources().iter().filter_map(|src| compile(src, dir.path(), "check", &["-O2"]).err()).collect();
    assert!(errors.is_empty(), "C services do not build with -Wall -Werror against include/:\n{}", errors.join("\n"));
}

/// Strong undefined symbols with no version (so not from libc) that the executable does not
/// export: each would make dlopen(RTLD_NOW) fail.
fn unresolved(so: &Path, exports: &BTreeSet<String>) -> Vec<String> {
    nm(&["-u"], so)
        .into_iter()
        .filter(|(ty, name, versioned)| *ty == 'U' && !versioned && !exports.contains(name))
        .map(|(_, name, _)| name)
        .collect()
}

#[test]
fn cservices_resolve_against_the_executable() {
    let exports = exports();
    let dir = tempfile::tempdir().unwrap();
    let mut report = Vec::new();
    let mut objects = Vec::new();
    for src in cservice_sources() {
        let so = compile(&src, dir.path(), "resolve", &["-O2"]).unwrap_or_else(|e| panic!("{e}"));
        objects.push((format!("cservice/{}", src.file_name().unwrap().to_string_lossy()), so));
    }
    objects.push((
        "tests/c/abi_all.c".into(),
        compile(&root().join("tests/c/abi_all.c"), dir.path(), "resolve", &[]).unwrap_or_else(|e| panic!("{e}")),
    ));
    objects.push(("tests/c/testsvc.c".into(), c_service("testsvc")));
    // The installed products too, if `make` built them (they may be older than their source).
    for name in ["logger", "gate"] {
        let so = root().join("cservice").join(format!("{name}.so"));
        if so.exists() {
            objects.push((format!("cservice/{name}.so (installed)"), so));
        }
    }
    for (name, so) in &objects {
        let missing = unresolved(so, &exports);
        if !missing.is_empty() {
            report.push(format!("{name}: {} unresolved: {}", missing.len(), missing.join(" ")));
        }
    }
    assert!(
        report.is_empty(),
        "these plug-ins reference symbols {} does not export (dlopen would fail):\n{}",
        skynet_bin().display(),
        report.join("\n")
    );
}
