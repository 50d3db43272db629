//! The config file: a Lua chunk whose globals become env keys. `$NAME` expands environment
//! variables and `include "file"` reads another file relative to the including one.

use std::ffi::CString;

use crate::ffi::lua::*;

/// Runs in a fresh Lua state with the config path as its argument; returns a table of
/// key -> string, or raises a message that names the file and the problem.
const LOADER: &str = r#"
local path = ...
local config = {}
local dirs = {}

local function readfile(name)
    local f, err = io.open(name, "rb")
    if not f then
        error(string.format("can't open config file %s: %s", name, err), 0)
    end
    local text = f:read "a"
    f:close()
    return text
end

local function expand(text, name)
    return (text:gsub("%$([%w_]+)", function(var)
        local value = os.getenv(var)
        if value == nil then
            error(string.format("%s: environment variable $%s is not set", name, var), 0)
        end
        return value
    end))
end

local function loadfile_into(name)
    local text = expand(readfile(name), name)
    local chunk, err = load(text, "@" .. name, "t", config)
    if not chunk then
        error(err, 0)
    end
    dirs[#dirs + 1] = name:match("^(.*/)") or "./"
    chunk()
    dirs[#dirs] = nil
end

local function include(name)
    if type(name) ~= "string" then
        error("include needs a file name", 2)
    end
    if name:sub(1, 1) ~= "/" then
        name = dirs[#dirs] .. name
    end
    loadfile_into(name)
end

setmetatable(config, { __index = { include = include } })
loadfile_into(path)
setmetatable(config, nil)

local result = {}
for key, value in pairs(config) do
    if type(key) ~= "string" then
        error(string.format("%s: invalid config key %s (keys must be names)", path, tostring(key)), 0)
    end
    local t = type(value)
    if t == "boolean" then
        result[key] = value and "true" or "false"
    elseif t == "number" or t == "string" then
        result[key] = tostring(value)
    else
        error(string.format("%s: invalid config value for key '%s': a %s (use a string, number or boolean)", path, key, t), 0)
    end
end
return result
"#;

/// A Lua state closed on drop.
struct State(*mut LuaState);

impl Drop for State {
    fn drop(&mut self) {
        // SAFETY: the state was created by luaL_newstate and is closed once.
        unsafe { lua_close(self.0) }
    }
}

/// Loads the config file at `path` into (key, value) pairs.
pub fn load(path: &str) -> Result<Vec<(String, String)>, String> {
    // SAFETY: a fresh state used on this thread only; every stack access is checked by type
    // or comes from our own loader's documented result.
    unsafe {
        let l = luaL_newstate();
        if l.is_null() {
            return Err("can't create a Lua state for the config".into());
        }
        let state = State(l);
        open_libs(state.0);
        let name = CString::new("=[config loader]").map_err(|e| e.to_string())?;
        if luaL_loadbufferx(state.0, LOADER.as_ptr().cast(), LOADER.len(), name.as_ptr(), std::ptr::null()) != LUA_OK {
            return Err(String::from_utf8_lossy(to_bytes(state.0, -1)).into_owned());
        }
        lua_pushlstring(state.0, path.as_ptr().cast(), path.len());
        if lua_pcallk(state.0, 1, 1, 0, 0, std::ptr::null()) != LUA_OK {
            return Err(String::from_utf8_lossy(to_bytes(state.0, -1)).into_owned());
        }
        let mut pairs = Vec::new();
        lua_pushnil(state.0);
        while lua_next(state.0, -2) != 0 {
            if lua_type(state.0, -2) == LUA_TSTRING && lua_type(state.0, -1) == LUA_TSTRING {
                let key = String::from_utf8_lossy(to_bytes(state.0, -2)).into_owned();
                let value = String::from_utf8_lossy(to_bytes(state.0, -1)).into_owned();
                pairs.push((key, value));
            }
            lua_settop(state.0, -2);
        }
        pairs.sort();
        Ok(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
        let path = dir.join(name);
        std::fs::File::create(&path).unwrap().write_all(text.as_bytes()).unwrap();
        path.to_string_lossy().into_owned()
    }

    #[test]
    fn reads_values_includes_and_env() {
        let dir = tempfile::tempdir().unwrap();
        std::env::set_var("SKYNET_TEST_ROOT", "/opt/game");
        write(dir.path(), "common.lua", "thread = 4\nprofile = false\n");
        let main = write(dir.path(), "config", "include 'common.lua'\nroot = '$SKYNET_TEST_ROOT'\nratio = 1.5\n");
        let pairs = load(&main).unwrap();
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("thread"), Some("4"));
        assert_eq!(get("profile"), Some("false"));
        assert_eq!(get("root"), Some("/opt/game"));
        assert_eq!(get("ratio"), Some("1.5"));
        assert_eq!(get("include"), None, "include is not a config key");
    }

    #[test]
    fn malformed_configs_name_the_file_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let syntax = write(dir.path(), "syntax", "thread = = 8\n");
        let err = load(&syntax).unwrap_err();
        assert!(err.contains("syntax") && err.contains(":1:"), "{err}");

        let table = write(dir.path(), "table", "thread = 8\nbad = {}\n");
        let err = load(&table).unwrap_err();
        assert!(err.contains("table") && err.contains("'bad'"), "{err}");

        let var = write(dir.path(), "var", "root = '$SKYNET_SURELY_UNSET_VAR'\n");
        let err = load(&var).unwrap_err();
        assert!(err.contains("SKYNET_SURELY_UNSET_VAR") && err.contains("var"), "{err}");

        let missing = dir.path().join("nope").to_string_lossy().into_owned();
        let err = load(&missing).unwrap_err();
        assert!(err.contains("nope"), "{err}");

        let inc = write(dir.path(), "inc", "include 'absent.lua'\n");
        let err = load(&inc).unwrap_err();
        assert!(err.contains("absent.lua"), "{err}");
    }
}
